//! Server-sent events, as the providers stream them: bytes in (split anywhere by the network),
//! events out.
//!
//! Follows the WHATWG event-stream rules the providers rely on: lines end in `\n`, `\r\n` or
//! `\r`; a blank line ends an event; `data:` lines are joined with `\n`; a line starting with `:`
//! is a comment (a keep-alive) and is skipped; one space after the colon is dropped. A line is
//! decoded only once it is whole, so a multi-byte UTF-8 character split across network chunks
//! arrives intact.

use futures::stream::{self, Stream};

use super::ModelError;

/// One event of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field (Anthropic and OpenAI Responses name their events; Chat Completions
    /// does not).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Turns a byte stream into [`SseEvent`]s.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// Bytes not yet part of a whole line.
    buf: Vec<u8>,
    /// The event being read.
    event: Option<String>,
    data: String,
    has_data: bool,
    /// The last line ended in `\r`: a `\n` at the start of the next chunk belongs to it.
    after_cr: bool,
}

/// The stream is not UTF-8.
#[derive(Debug)]
pub(crate) struct NotUtf8;

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes; every event they complete is pushed onto `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), NotUtf8> {
        if chunk.is_empty() {
            // Nothing to read, and a pending `\r` still waits for the next byte.
            return Ok(());
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        // Whole lines straight from `chunk` when nothing is buffered: no copy on the common path.
        let mut start = 0;
        while let Some(offset) = chunk[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = start + offset;
            let line_bytes: &[u8] = if self.buf.is_empty() {
                &chunk[start..end]
            } else {
                self.buf.extend_from_slice(&chunk[start..end]);
                &self.buf
            };
            let line = std::str::from_utf8(line_bytes).map_err(|_| NotUtf8)?;
            // Split borrows: `line` may borrow `self.buf`.
            let event = Self::line(line, &mut self.event, &mut self.data, &mut self.has_data);
            self.buf.clear();
            if let Some(event) = event {
                out.push(event);
            }
            start = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(start) {
                    Some(b'\n') => start += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.buf.extend_from_slice(&chunk[start..]);
        Ok(())
    }

    /// The end of the stream. An event not closed by a blank line is dropped, as the standard
    /// says; whether the stream ended where it should is for the provider to tell.
    pub fn finish(&mut self) {
        self.buf.clear();
        self.event = None;
        self.data.clear();
        self.has_data = false;
    }

    /// One whole line; an event if it was the blank line closing one.
    fn line(
        line: &str,
        event: &mut Option<String>,
        data: &mut String,
        has_data: &mut bool,
    ) -> Option<SseEvent> {
        if line.is_empty() {
            let name = event.take();
            if !*has_data {
                return None;
            }
            *has_data = false;
            return Some(SseEvent {
                event: name,
                data: std::mem::take(data),
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if *has_data {
                    data.push('\n');
                }
                data.push_str(value);
                *has_data = true;
            }
            "event" => *event = Some(value.to_owned()),
            // `id` and `retry` matter to browsers reconnecting, not to one model turn.
            _ => {}
        }
        None
    }
}

/// The bounds of one stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The longest wait for the next byte.
    pub read_timeout: std::time::Duration,
    /// When the whole stream must be over.
    pub deadline: tokio::time::Instant,
    /// The total time it was given (for the error).
    pub total: std::time::Duration,
    /// The most bytes it may carry in all.
    pub max_bytes: usize,
}

/// The events of a streamed HTTP response body, in order; a transport error, a body that is not
/// UTF-8, no byte for `read_timeout` (keep-alives count), a stream not over by the deadline or
/// longer than `max_bytes` ends the stream with an error.
pub(crate) fn events(
    provider: &'static str,
    response: reqwest::Response,
    limits: Limits,
) -> impl Stream<Item = Result<SseEvent, ModelError>> + Send + 'static {
    struct State {
        response: reqwest::Response,
        decoder: SseDecoder,
        ready: std::collections::VecDeque<SseEvent>,
        scratch: Vec<SseEvent>,
        bytes: usize,
        done: bool,
    }
    let state = State {
        response,
        decoder: SseDecoder::new(),
        ready: Default::default(),
        scratch: Vec::new(),
        bytes: 0,
        done: false,
    };
    stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(event) = state.ready.pop_front() {
                return Some((Ok(event), state));
            }
            if state.done {
                return None;
            }
            let idle = tokio::time::Instant::now() + limits.read_timeout;
            let until = idle.min(limits.deadline);
            let Ok(chunk) = tokio::time::timeout_at(until, state.response.chunk()).await else {
                state.done = true;
                let error = if until == limits.deadline {
                    ModelError::StreamTimeout {
                        provider: provider.to_owned(),
                        limit: limits.total,
                    }
                } else {
                    ModelError::Transport {
                        provider: provider.to_owned(),
                        message: format!("timed out: no data for {:?}", limits.read_timeout),
                    }
                };
                return Some((Err(error), state));
            };
            match chunk {
                Ok(Some(bytes)) => {
                    state.bytes = state.bytes.saturating_add(bytes.len());
                    if state.bytes > limits.max_bytes {
                        state.done = true;
                        let error = ModelError::ResponseTooLarge {
                            provider: provider.to_owned(),
                            limit: limits.max_bytes,
                        };
                        return Some((Err(error), state));
                    }
                    if state.decoder.push(&bytes, &mut state.scratch).is_err() {
                        state.done = true;
                        let error = ModelError::InvalidResponse {
                            provider: provider.to_owned(),
                            message: "the event stream is not UTF-8".to_owned(),
                        };
                        return Some((Err(error), state));
                    }
                    state.ready.extend(state.scratch.drain(..));
                }
                Ok(None) => {
                    state.decoder.finish();
                    state.done = true;
                }
                Err(error) => {
                    state.done = true;
                    let error = super::http::transport_error(provider, &error);
                    return Some((Err(error), state));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece.max(1)) {
            decoder.push(chunk, &mut out).unwrap();
        }
        decoder.finish();
        out
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn events_are_the_same_however_the_bytes_are_split() {
        let input = "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: é😀\ndata: second line\n\nevent: ping\r\ndata:x\r\n\r\ndata: last\r\rdata: [DONE]\n\n";
        let want = vec![
            ev(Some("message_start"), "{\"a\":1}"),
            ev(None, "é😀\nsecond line"),
            ev(Some("ping"), "x"),
            ev(None, "last"),
            ev(None, "[DONE]"),
        ];
        for piece in 1..=input.len() {
            assert_eq!(
                decode_in_pieces(input.as_bytes(), piece),
                want,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn comments_and_events_without_data_dispatch_nothing() {
        let events = decode_in_pieces(b": ping\n\nevent: empty\n\nid: 7\nretry: 10\n\n", 3);
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn an_unclosed_event_at_the_end_is_dropped() {
        assert_eq!(
            decode_in_pieces(b"data: whole\n\ndata: cut", 4),
            vec![ev(None, "whole")]
        );
    }

    #[test]
    fn a_field_without_colon_and_without_space_after_colon() {
        assert_eq!(
            decode_in_pieces(b"data\ndata:b\ndata:  c\n\n", 2),
            vec![ev(None, "\nb\n c")]
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        assert!(decoder.push(b"data: \xff\xfe\n\n", &mut out).is_err());
    }

    #[test]
    fn a_crlf_split_between_chunks_is_one_line_end() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.push(b"data: a\r", &mut out).unwrap();
        decoder.push(b"\n\r", &mut out).unwrap();
        decoder.push(b"\ndata: b\n\n", &mut out).unwrap();
        assert_eq!(out, vec![ev(None, "a"), ev(None, "b")]);
    }

    #[test]
    fn a_cr_then_an_empty_chunk_keeps_the_line_end_pending() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.push(b"data: a\r", &mut out).unwrap();
        decoder.push(b"", &mut out).unwrap();
        decoder.push(b"\ndata: b\n\n", &mut out).unwrap();
        assert_eq!(out, vec![ev(None, "a\nb")]);
    }
}

// A client of the official MCP TypeScript SDK, for kern-mcp's tests of kern's own MCP server:
//
//   node client.mjs stdio PROGRAM [ARG...]   starts PROGRAM and speaks MCP over its stdio
//   node client.mjs http URL                 connects to a streamable HTTP endpoint
//
// It lists the tools, then makes the calls given in $MCP_CALLS (a JSON array of
// {"name": ..., "arguments": {...}}), and prints one JSON document on stdout:
//   {"server": {...serverInfo}, "tools": [...tools/list], "calls": [...tools/call results]}
// Any failure is printed on stderr and exits 1. Installed next to its node_modules by
// scripts/mcp.sh.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, ...rest] = process.argv.slice(2);
let transport;
if (mode === "stdio" && target) {
  transport = new StdioClientTransport({ command: target, args: rest, stderr: "inherit" });
} else if (mode === "http" && target) {
  transport = new StreamableHTTPClientTransport(new URL(target));
} else {
  console.error("usage: node client.mjs stdio PROGRAM [ARG...] | http URL");
  process.exit(2);
}

const client = new Client({ name: "kern-mcp-test-client", version: "1.0.0" });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const calls = [];
  for (const call of JSON.parse(process.env.MCP_CALLS ?? "[]")) {
    calls.push(await client.callTool({ name: call.name, arguments: call.arguments ?? {} }));
  }
  console.log(JSON.stringify({ server: client.getServerVersion(), tools, calls }));
  await client.close();
} catch (error) {
  console.error(`client.mjs: ${error?.stack ?? error}`);
  process.exit(1);
}

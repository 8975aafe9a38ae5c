use kern::prelude::*;

/// Gets the weather.
///
/// Args:
///     city (str): The city.
///     dayz (int): How many days.
#[tool]
fn weather(city: String, days: u8) -> String {
    format!("{city} {days}")
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(weather);
    let _ = weather::call("Oslo".to_owned(), 1);
}

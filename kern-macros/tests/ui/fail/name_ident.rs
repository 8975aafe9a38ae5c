use kern::prelude::*;

/// Gets the weather.
#[tool(name = get_weather)]
fn weather(city: String) -> String {
    city
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(weather);
    let _ = weather::call("Oslo".to_owned());
}

use kern::prelude::*;

/// Gets the weather.
#[tool(strict(true))]
fn weather(city: String) -> String {
    city
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(weather);
    let _ = weather::call("Oslo".to_owned());
}

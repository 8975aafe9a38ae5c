use kern::prelude::*;

/// Gets the weather.
///
/// # Arguments
/// * `citty` - The city
#[tool]
fn weather(city: String) -> String {
    city
}

// Using the tool adds no error.
fn main() {
    let _ = Agent::builder().tool(weather);
    let _ = weather::call("Oslo".to_owned());
}

use kern::prelude::*;

/// Ignored because of `description`.
///
/// # Arguments
/// * `city` - From the docs
/// * `days` - Overridden below
#[tool(name = "get-weather_2", description = "Weather for a city.")]
fn weather(city: String, #[arg(description = "How many days")] days: u8) -> String {
    format!("{city}{days}")
}

fn main() {
    let d = weather.definition();
    assert_eq!(d.name, "get-weather_2");
    assert_eq!(weather::NAME, "get-weather_2");
    assert_eq!(d.description, "Weather for a city.");
    assert_eq!(d.parameters["properties"]["city"]["description"], "From the docs");
    assert_eq!(d.parameters["properties"]["days"]["description"], "How many days");
}

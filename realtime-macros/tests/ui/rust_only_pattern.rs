use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("code.entered")]
    Entered {
        #[schemars(length(max = 3), regex(pattern = r"(?i)^[a-z]{3}$"))]
        code: String,
        #[schemars(regex(pattern = r"^[a-z]+$"))]
        fine: String,
    },
}

fn main() {}

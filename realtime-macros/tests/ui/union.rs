use realtime_core::Events;

#[derive(Events, Clone, Copy)]
union AppEvent {
    a: u32,
    b: f32,
}

fn main() {}

//! The backend conformance suite (`realtime_core::backend::conformance`), run against
//! every backend of the workspace: the embedded memory one and Redis.

mod memory {
    realtime_core::backend_conformance!(|options| realtime_tests::BackendKind::Memory.open(options));
}

mod redis {
    realtime_core::backend_conformance!(|options| realtime_tests::BackendKind::Redis.open(options));
}

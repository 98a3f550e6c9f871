//! The backend conformance suite (`realtime_core::backend::conformance`), run against
//! every backend of the workspace: the embedded memory one, Redis, and a Redis Cluster.

mod memory {
    realtime_core::backend_conformance!(|options| realtime_tests::BackendKind::Memory.open(options));
}

mod redis {
    realtime_core::backend_conformance!(|options| realtime_tests::BackendKind::Redis.open(options));
}

mod redis_cluster {
    realtime_core::backend_conformance!(
        |options| realtime_tests::BackendKind::RedisCluster.open(options)
    );
}

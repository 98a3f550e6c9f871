//! The Redis Cluster harness (`realtime_tests::cluster`) with raw commands only: the
//! shared cluster of `scripts/cluster` is there and shaped as documented, and a private
//! cluster fails over, moves a slot and freezes a node as the fault tests will need.
//!
//! Each test prints its timings (`--nocapture` shows them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::time::{Duration, Instant};

use realtime_tests::cluster::{
    PrivateCluster, cluster_nodes_of, cluster_seeds, info_field, shared_cluster_url,
};
use realtime_tests::raw_connection;
use redis::aio::MultiplexedConnection;
use redis::{ErrorKind, RedisError, RedisResult, ServerErrorKind};

async fn started() -> PrivateCluster {
    let began = Instant::now();
    let cluster = PrivateCluster::start().await;
    println!("private cluster of 6 nodes ready in {:?}", began.elapsed());
    cluster
}

async fn ping(connection: &mut MultiplexedConnection) -> RedisResult<String> {
    redis::cmd("PING").query_async(connection).await
}

fn assert_redirect(error: &RedisError, kind: ServerErrorKind, port: u16, slot: u16) {
    assert_eq!(error.kind(), ErrorKind::Server(kind), "{error}");
    let expected = format!("127.0.0.1:{port}");
    assert_eq!(
        error.redirect_node(),
        Some((expected.as_str(), slot)),
        "{error}"
    );
}

#[tokio::test]
async fn the_shared_cluster_has_three_masters_with_a_replica_each() {
    let url = shared_cluster_url();
    let seeds = cluster_seeds(&url);
    assert_eq!(seeds.len(), 3, "{url}");
    let mut seed_ports = Vec::new();
    for seed in &seeds {
        let mut connection = raw_connection(&format!("redis://{seed}")).await;
        let info: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut connection)
            .await
            .unwrap_or_else(|error| {
                panic!("{seed} of {url} is not a cluster node ({error}); run scripts/cluster start")
            });
        assert_eq!(
            info_field(&info, "cluster_state"),
            Some("ok"),
            "{seed}: {info}"
        );
        assert_eq!(
            info_field(&info, "cluster_slots_assigned"),
            Some("16384"),
            "{seed}"
        );
        seed_ports.push(seed.rsplit(':').next().unwrap().parse::<u16>().unwrap());
    }

    let view = cluster_nodes_of(seed_ports[0]).await.unwrap();
    assert_eq!(view.len(), 6, "{view:#?}");
    assert!(view.iter().all(|node| !node.is_failing()), "{view:#?}");
    let masters: Vec<_> = view.iter().filter(|node| node.is_master()).collect();
    assert_eq!(masters.len(), 3, "{view:#?}");
    let slots: usize = masters.iter().map(|master| master.slot_count()).sum();
    assert_eq!(slots, 16384, "{view:#?}");
    for master in masters {
        let replicas = view
            .iter()
            .filter(|node| node.is_replica() && node.master_id.as_deref() == Some(&master.id))
            .count();
        assert_eq!(
            replicas, 1,
            "master {} has {replicas} replicas",
            master.port
        );
    }
    for port in seed_ports {
        assert!(
            view.iter().any(|node| node.port == port),
            "seed {port} is not in the cluster"
        );
    }
}

#[tokio::test]
async fn a_killed_master_fails_over_to_its_replica_with_the_acknowledged_write() {
    let mut cluster = started().await;
    let key = "harness:failover";
    let slot = cluster.key_slot(key).await;
    let master = cluster.master_of_slot(slot).await;
    let replica = cluster.replica_of(master).await;

    let mut connection = cluster.connection(master).await;
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg("kept")
        .query_async(&mut connection)
        .await
        .unwrap();
    let acknowledged: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(1000)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(acknowledged, 1, "the replica acknowledged the write");

    let began = Instant::now();
    let (old, new) = cluster.kill_master_and_wait_for_failover(slot).await;
    println!("failover from {old} to {new} in {:?}", began.elapsed());
    assert_eq!((old, new), (master, replica));
    assert_eq!(cluster.master_of_slot(slot).await, replica);

    let mut promoted = cluster.connection(new).await;
    let value: Option<String> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut promoted)
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("kept"));
    let role: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut promoted)
        .await
        .unwrap();
    assert_eq!(info_field(&role, "role"), Some("master"));

    let gone = redis::Client::open(format!("redis://127.0.0.1:{old}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await;
    assert!(gone.is_err(), "the killed master still accepts connections");
    let old_url = format!("redis://127.0.0.1:{old}");
    assert!(
        !cluster.seed_urls().contains(&old_url),
        "{:?}",
        cluster.seed_urls()
    );
    assert_eq!(cluster.seed_urls().len(), 2);
}

#[tokio::test]
async fn a_migrated_slot_keeps_its_keys_and_the_old_master_answers_moved() {
    let cluster = started().await;
    let keys: Vec<String> = (0..250)
        .map(|n| format!("{{harness-migration}}:{n}"))
        .collect();
    let slot = cluster.key_slot(&keys[0]).await;
    let source = cluster.master_of_slot(slot).await;
    let target = *cluster
        .masters()
        .await
        .iter()
        .find(|&&port| port != source)
        .unwrap();

    let mut on_source = cluster.connection(source).await;
    let mut writes = redis::pipe();
    for (n, key) in keys.iter().enumerate() {
        writes.cmd("SET").arg(key).arg(n).ignore();
    }
    let _: () = writes.query_async(&mut on_source).await.unwrap();

    let began = Instant::now();
    let migration = cluster.begin_migration(slot, target).await;
    // Migrating: the source still serves the keys it holds and sends the others on.
    let held: Option<String> = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut on_source)
        .await
        .unwrap();
    assert_eq!(held.as_deref(), Some("0"));
    let missing = redis::cmd("GET")
        .arg("{harness-migration}:missing")
        .query_async::<Option<String>>(&mut on_source)
        .await
        .unwrap_err();
    assert_redirect(&missing, ServerErrorKind::Ask, target, slot);

    assert_eq!(migration.move_keys().await, keys.len());
    migration.finish().await;
    println!(
        "slot {slot} with {} keys moved in {:?}",
        keys.len(),
        began.elapsed()
    );
    assert_eq!(cluster.master_of_slot(slot).await, target);

    let mut on_target = cluster.connection(target).await;
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut on_target)
        .await
        .unwrap();
    let expected: Vec<Option<String>> = (0..keys.len()).map(|n| Some(n.to_string())).collect();
    assert_eq!(values, expected);
    for key in [&keys[0], &keys[249]] {
        let moved = redis::cmd("GET")
            .arg(key)
            .query_async::<Option<String>>(&mut on_source)
            .await
            .unwrap_err();
        assert_redirect(&moved, ServerErrorKind::Moved, target, slot);
    }
}

#[tokio::test]
async fn a_paused_node_answers_nothing_until_resumed() {
    let cluster = started().await;
    let port = cluster.masters().await[0];
    let mut connection = cluster.connection(port).await;
    assert_eq!(ping(&mut connection).await.unwrap(), "PONG");

    cluster.pause(port);
    // Well below the node timeout (1 s): the cluster does not fail the node meanwhile.
    let frozen = tokio::time::timeout(Duration::from_millis(500), ping(&mut connection)).await;
    assert!(frozen.is_err(), "a paused node answered: {frozen:?}");

    cluster.resume(port);
    let began = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(2), ping(&mut connection))
        .await
        .expect("the resumed node answers within 2 s");
    assert_eq!(answer.unwrap(), "PONG");
    println!("answered {:?} after resume", began.elapsed());
    let mut fresh = cluster.connection(port).await;
    assert_eq!(ping(&mut fresh).await.unwrap(), "PONG");
}

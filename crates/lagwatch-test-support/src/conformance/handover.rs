//! Conformance checks every [`AlertHandover`] and [`MemberDirectory`] must pass.

use lagwatch_component::directory::owner_of;
use lagwatch_component::{AlertHandover, HandedAlert, Member, MemberDirectory};
use lagwatch_core::sharding::offsets_partition;

/// The partition count the checks divide groups by.
const PARTITIONS: u32 = 4;

/// Two group names (starting with `prefix`) whose commits live in different partitions of an
/// offsets topic of [`PARTITIONS`] partitions, and those partitions.
fn two_groups(prefix: &str) -> ((String, u32), (String, u32)) {
    let first = format!("{prefix}-a");
    let p = offsets_partition(&first, PARTITIONS);
    let second = (0..)
        .map(|i| format!("{prefix}-b{i}"))
        .find(|g| offsets_partition(g, PARTITIONS) != p)
        .unwrap_or_default();
    let q = offsets_partition(&second, PARTITIONS);
    ((first, p), (second, q))
}

fn alert(id: &str, cluster: &str, group: &str, version: u32) -> HandedAlert {
    HandedAlert {
        id: id.to_owned(),
        cluster: cluster.to_owned(),
        group: group.to_owned(),
        record: Some(serde_json::json!({"rule": "lag", "phase": "firing", "version": version})),
    }
}

fn ids(mut alerts: Vec<HandedAlert>) -> Vec<(String, Option<serde_json::Value>)> {
    alerts.sort_by(|a, b| a.id.cmp(&b.id));
    alerts.into_iter().map(|a| (a.id, a.record)).collect()
}

/// Publishes and collects alerts of clusters `<prefix>-c` and `<prefix>-other` (names no
/// other check uses, so a shared store may hold anything else): a later change replaces an
/// earlier one, a closing removes the alert, and collecting returns exactly the cluster's
/// alerts whose groups live in the given partitions.
///
/// # Errors
/// A description of the first check that failed.
pub async fn check_handover(store: &dyn AlertHandover, prefix: &str) -> Result<(), String> {
    let (cluster, other) = (format!("{prefix}-c"), format!("{prefix}-other"));
    let ((g1, p1), (g2, p2)) = two_groups(prefix);
    let fail = |what: &str, e: lagwatch_component::ComponentError| format!("{what}: {e}");
    if store.name().trim().is_empty() {
        return Err("name() is empty".into());
    }
    store
        .publish(&[])
        .await
        .map_err(|e| fail("publishing nothing", e))?;
    let (a, b, c) = (
        format!("{prefix}-1"),
        format!("{prefix}-2"),
        format!("{prefix}-3"),
    );
    store
        .publish(&[
            alert(&a, &cluster, &g1, 1),
            alert(&b, &cluster, &g2, 1),
            alert(&c, &other, &g1, 1),
            alert(&a, &cluster, &g1, 2),
        ])
        .await
        .map_err(|e| fail("publishing", e))?;
    let collect = |cluster: String, partitions: Vec<u32>| async move {
        store
            .collect(&cluster, &partitions, PARTITIONS)
            .await
            .map(ids)
            .map_err(|e| format!("collecting {cluster} {partitions:?}: {e}"))
    };
    let expect =
        |what: &str, got: Vec<(String, Option<serde_json::Value>)>, want: Vec<HandedAlert>| {
            let want = ids(want);
            if got == want {
                Ok(())
            } else {
                Err(format!("{what}: got {got:?}, expected {want:?}"))
            }
        };
    expect(
        "the latest change of an alert, only for the partition of its group",
        collect(cluster.clone(), vec![p1]).await?,
        vec![alert(&a, &cluster, &g1, 2)],
    )?;
    expect(
        "both partitions",
        collect(cluster.clone(), vec![p1, p2]).await?,
        vec![alert(&a, &cluster, &g1, 2), alert(&b, &cluster, &g2, 1)],
    )?;
    expect(
        "another cluster",
        collect(other.clone(), (0..PARTITIONS).collect()).await?,
        vec![alert(&c, &other, &g1, 1)],
    )?;
    let mut closed = alert(&a, &cluster, &g1, 3);
    closed.record = None;
    store
        .publish(&[closed])
        .await
        .map_err(|e| fail("publishing a closing", e))?;
    expect(
        "a closed alert is gone",
        collect(cluster.clone(), vec![p1, p2]).await?,
        vec![alert(&b, &cluster, &g2, 1)],
    )?;
    expect(
        "no partition, no alert",
        collect(cluster, vec![]).await?,
        vec![],
    )?;
    Ok(())
}

/// Announces, replaces, lists and withdraws members of clusters `<prefix>-c` and
/// `<prefix>-other`: a later announcement of an address replaces the earlier one, members
/// come back only for their cluster (alert records in the same store are not members), a
/// withdrawn member is gone, and the newest claim of a partition owns it.
///
/// # Errors
/// A description of the first check that failed.
pub async fn check_directory(store: &dyn MemberDirectory, prefix: &str) -> Result<(), String> {
    let (cluster, other) = (format!("{prefix}-c"), format!("{prefix}-other"));
    let ((group, p), (_, q)) = two_groups(prefix);
    if store.name().trim().is_empty() {
        return Err("name() is empty".into());
    }
    let member = |cluster: &str, address: &str, partitions: Vec<u32>, at: i64| Member {
        cluster: cluster.to_owned(),
        address: address.to_owned(),
        offsets_partitions: partitions,
        partition_count: PARTITIONS,
        announced_ms: at,
    };
    let (a, b) = ("http://127.0.0.1:18001", "http://127.0.0.1:18002");
    for m in [
        member(&cluster, a, vec![p, q], 1_000),
        member(&cluster, b, vec![], 1_001),
        member(&other, a, vec![q], 1_002),
        // The takeover: b now owns `p`, a is gone without withdrawing.
        member(&cluster, b, vec![p], 2_000),
    ] {
        store
            .announce(&m)
            .await
            .map_err(|e| format!("announcing {m:?}: {e}"))?;
    }
    let listed = |cluster: String| async move {
        let mut members = store
            .members(&cluster)
            .await
            .map_err(|e| format!("listing the members of {cluster}: {e}"))?;
        members.sort_by(|x, y| x.address.cmp(&y.address));
        Ok::<_, String>(members)
    };
    let got = listed(cluster.clone()).await?;
    let want = vec![
        member(&cluster, a, vec![p, q], 1_000),
        member(&cluster, b, vec![p], 2_000),
    ];
    if got != want {
        return Err(format!(
            "the latest announcement per address: got {got:?}, expected {want:?}"
        ));
    }
    let owner = owner_of(&got, &group).map(|m| m.address.clone());
    if owner.as_deref() != Some(b) {
        return Err(format!("the newest claim owns {group}: got {owner:?}"));
    }
    store
        .withdraw(&cluster, b)
        .await
        .map_err(|e| format!("withdrawing {b}: {e}"))?;
    let got = listed(cluster.clone()).await?;
    if got != vec![member(&cluster, a, vec![p, q], 1_000)] {
        return Err(format!("after withdrawing {b}: got {got:?}"));
    }
    let got = listed(other.clone()).await?;
    if got != vec![member(&other, a, vec![q], 1_002)] {
        return Err(format!("the other cluster: got {got:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lagwatch_component::MemoryHandover;

    #[tokio::test]
    async fn the_in_memory_directory_passes() {
        let store = MemoryHandover::new();
        check_handover(&store, "mem").await.unwrap();
        check_directory(&store, "mem").await.unwrap();
    }

    #[tokio::test]
    async fn the_in_memory_store_passes() {
        let store = MemoryHandover::new();
        check_handover(&store, "mem").await.unwrap();
        assert_eq!(
            store.len(),
            2,
            "the other cluster's alert and one of this one's"
        );
    }
}

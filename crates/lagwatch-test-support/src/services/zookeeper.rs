//! ZooKeeper helpers: old-style (pre-0.9) consumer offsets as Burrow's `kafka_zk` module and
//! lagwatch's ZooKeeper source read them — `/consumers/<group>/offsets/<topic>/<partition>`
//! holding the offset as a decimal string.
//!
//! Each function opens its own short session (bounded by [`ZK_TIMEOUT`]) and closes it.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

/// Upper bound of connecting and of every operation.
pub const ZK_TIMEOUT: Duration = Duration::from_secs(15);

/// Path of the committed offset of `group` for `topic`/`partition`.
pub fn offset_path(group: &str, topic: &str, partition: i32) -> String {
    format!("/consumers/{group}/offsets/{topic}/{partition}")
}

async fn bounded<T>(
    what: &str,
    future: impl Future<Output = Result<T, ZkError>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(ZK_TIMEOUT, future)
        .await
        .map_err(|_| anyhow!("ZooKeeper: {what} took longer than {ZK_TIMEOUT:?}"))?
        .with_context(|| format!("ZooKeeper: {what}"))
}

/// Opens a session to `zk` (`host:port`).
pub async fn connect(zk: &str) -> anyhow::Result<Client> {
    bounded(
        &format!("connecting to {zk}"),
        Client::connector()
            .with_session_timeout(Duration::from_secs(10))
            .with_fail_eagerly()
            .connect(zk),
    )
    .await
}

/// Creates `path` (and its parents) holding `data`, or replaces the data of an existing node.
pub async fn write(zk: &str, path: &str, data: &[u8]) -> anyhow::Result<()> {
    let client = connect(zk).await?;
    let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
    if let Some((parent, _)) = path.rsplit_once('/')
        && !parent.is_empty()
    {
        bounded(
            &format!("creating {parent}"),
            client.mkdir(parent, &options),
        )
        .await?;
    }
    match tokio::time::timeout(ZK_TIMEOUT, client.create(path, data, &options)).await {
        Err(_) => Err(anyhow!(
            "ZooKeeper: creating {path} took longer than {ZK_TIMEOUT:?}"
        )),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(ZkError::NodeExists)) => bounded(
            &format!("setting {path}"),
            client.set_data(path, data, None),
        )
        .await
        .map(drop),
        Ok(Err(err)) => Err(anyhow!("ZooKeeper: creating {path}: {err}")),
    }
}

/// Reads the data of `path`; `None` when the node does not exist.
pub async fn read(zk: &str, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let client = connect(zk).await?;
    match tokio::time::timeout(ZK_TIMEOUT, client.get_data(path)).await {
        Err(_) => Err(anyhow!(
            "ZooKeeper: reading {path} took longer than {ZK_TIMEOUT:?}"
        )),
        Ok(Ok((data, _))) => Ok(Some(data)),
        Ok(Err(ZkError::NoNode)) => Ok(None),
        Ok(Err(err)) => Err(anyhow!("ZooKeeper: reading {path}: {err}")),
    }
}

/// Reads `path` as UTF-8 text; `None` when the node does not exist.
pub async fn read_string(zk: &str, path: &str) -> anyhow::Result<Option<String>> {
    read(zk, path)
        .await?
        .map(|data| {
            String::from_utf8(data).with_context(|| format!("{path} does not hold UTF-8 text"))
        })
        .transpose()
}

/// The children of `path` (empty when the node does not exist).
pub async fn children(zk: &str, path: &str) -> anyhow::Result<Vec<String>> {
    let client = connect(zk).await?;
    list(&client, path).await
}

async fn list(client: &Client, path: &str) -> anyhow::Result<Vec<String>> {
    match tokio::time::timeout(ZK_TIMEOUT, client.list_children(path)).await {
        Err(_) => Err(anyhow!(
            "ZooKeeper: listing {path} took longer than {ZK_TIMEOUT:?}"
        )),
        Ok(Ok(children)) => Ok(children),
        Ok(Err(ZkError::NoNode)) => Ok(Vec::new()),
        Ok(Err(err)) => Err(anyhow!("ZooKeeper: listing {path}: {err}")),
    }
}

/// Deletes `path` and everything below it (a missing node is not an error).
pub async fn delete_recursive(zk: &str, path: &str) -> anyhow::Result<()> {
    let client = connect(zk).await?;
    // Depth-first without recursion in async code: collect all nodes, delete deepest first.
    let mut nodes = vec![path.to_owned()];
    let mut index = 0;
    while index < nodes.len() {
        let node = nodes[index].clone();
        for child in list(&client, &node).await? {
            nodes.push(format!("{}/{child}", node.trim_end_matches('/')));
        }
        index += 1;
    }
    for node in nodes.iter().rev() {
        match tokio::time::timeout(ZK_TIMEOUT, client.delete(node, None)).await {
            Err(_) => {
                return Err(anyhow!(
                    "ZooKeeper: deleting {node} took longer than {ZK_TIMEOUT:?}"
                ));
            }
            Ok(Ok(())) | Ok(Err(ZkError::NoNode)) => {}
            Ok(Err(err)) => return Err(anyhow!("ZooKeeper: deleting {node}: {err}")),
        }
    }
    Ok(())
}

/// Writes the committed offset of `group` for `topic`/`partition`, creating the parents.
pub async fn write_offset(
    zk: &str,
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> anyhow::Result<()> {
    write(
        zk,
        &offset_path(group, topic, partition),
        offset.to_string().as_bytes(),
    )
    .await
}

/// Reads the committed offset of `group` for `topic`/`partition`, if there is one.
pub async fn read_offset(
    zk: &str,
    group: &str,
    topic: &str,
    partition: i32,
) -> anyhow::Result<Option<i64>> {
    let path = offset_path(group, topic, partition);
    read_string(zk, &path)
        .await?
        .map(|text| {
            text.trim()
                .parse()
                .with_context(|| format!("{path} holds {text:?}, not an offset"))
        })
        .transpose()
}

/// Deletes `/consumers/<group>` with everything below it.
pub async fn delete_group(zk: &str, group: &str) -> anyhow::Result<()> {
    delete_recursive(zk, &format!("/consumers/{group}")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_paths_follow_the_old_consumer_layout() {
        assert_eq!(offset_path("g", "t", 3), "/consumers/g/offsets/t/3");
    }
}

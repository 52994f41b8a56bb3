//! The Burrow source against servers that answer too much: an endless body, and a topic
//! with more partitions than any real topic has.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lagwatch_component::FromConfig;
use lagwatch_component::OffsetSource;
use lagwatch_config::BurrowSourceConfig;
use lagwatch_core::Event;
use lagwatch_source_burrow::BurrowSource;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Reads one request head and returns its path.
async fn request_path(socket: &mut BufReader<TcpStream>) -> Option<String> {
    let mut first = String::new();
    socket.read_line(&mut first).await.ok()?;
    loop {
        let mut line = String::new();
        if socket.read_line(&mut line).await.ok()? == 0 || line == "\r\n" {
            break;
        }
    }
    first.split_whitespace().nth(1).map(str::to_owned)
}

/// A server answering every request with `answer(path)`; `None` streams an endless body.
async fn serve(answer: fn(&str) -> Option<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut socket = BufReader::new(socket);
                while let Some(path) = request_path(&mut socket).await {
                    let stream = socket.get_mut();
                    match answer(&path) {
                        Some(body) => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            if stream.write_all(head.as_bytes()).await.is_err()
                                || stream.write_all(body.as_bytes()).await.is_err()
                            {
                                return;
                            }
                        }
                        None => {
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, " ".repeat(1 << 20));
                            // Until the client hangs up.
                            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

fn config(url: String) -> BurrowSourceConfig {
    BurrowSourceConfig {
        servers: vec![url.into()],
        ..BurrowSourceConfig::default()
    }
}

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_limit_with_an_error_naming_the_url() {
    let url = serve(|_| None).await;
    let source = BurrowSource::from_config("burrow", &config(url.clone())).unwrap();
    let err = source.healthcheck().await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("{url}/v3/kafka")) && err.contains("larger than 8388608 bytes"),
        "{err}"
    );
}

fn cluster_with_a_huge_topic(path: &str) -> Option<String> {
    Some(match path {
        "/v3/kafka" => r#"{"clusters":["c"]}"#.to_owned(),
        "/v3/kafka/c/topic" => r#"{"topics":["huge","small"]}"#.to_owned(),
        "/v3/kafka/c/topic/huge" => {
            let offsets = vec!["7"; 100_001].join(",");
            format!(r#"{{"offsets":[{offsets}]}}"#)
        }
        "/v3/kafka/c/topic/small" => r#"{"offsets":[5,6]}"#.to_owned(),
        _ => r#"{"consumers":[]}"#.to_owned(),
    })
}

#[tokio::test]
async fn a_topic_with_more_partitions_than_the_limit_is_skipped() {
    let url = serve(cluster_with_a_huge_topic).await;
    let source = BurrowSource::from_config("burrow", &config(url)).unwrap();
    let events = source.poll().await;
    let topics: Vec<(&str, u32)> = events
        .iter()
        .filter_map(|e| match e {
            Event::BrokerOffsets {
                topic,
                partition_count,
                ..
            } => Some((topic.as_str(), *partition_count)),
            _ => None,
        })
        .collect();
    assert_eq!(topics, [("small", 2)], "{events:?}");
}

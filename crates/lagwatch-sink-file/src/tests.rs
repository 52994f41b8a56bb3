use super::*;
use lagwatch_component::ErrorClass;
use lagwatch_component::FromConfig;
use lagwatch_config::types::FsyncPolicy;
use lagwatch_core::measurement::from_snapshot;
use lagwatch_test_support::conformance::sink::check_sink;
use lagwatch_test_support::sample::{self, DAY_MS, SAMPLE_AT_MS};
use std::fs;
use std::path::PathBuf;

fn config(path: &Path) -> FileSinkConfig {
    FileSinkConfig {
        rotate_bytes: 0,
        rotate_daily: false,
        ..FileSinkConfig::new(path)
    }
}

/// The documents a snapshot should produce in the file, each with its newline.
fn expected_text(sink: &FileSink, snapshots: &[Snapshot]) -> String {
    let mut text = String::new();
    for s in snapshots {
        for m in from_snapshot(s, sink.measurement_options()) {
            text.push_str(&m.to_document());
            text.push('\n');
        }
    }
    text
}

/// Collects log lines written while its subscriber is the default.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let logs = self.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// Names of the files in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Size in bytes of one snapshot's documents.
fn snapshot_bytes(sink: &FileSink, snapshot: &Snapshot) -> u64 {
    expected_text(sink, std::slice::from_ref(snapshot)).len() as u64
}

#[tokio::test]
async fn conforms_with_and_without_topics() {
    for topics in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lag.ndjson");
        let sink = FileSink::from_config(
            "file",
            &FileSinkConfig {
                topics,
                ..config(&path)
            },
        )
        .unwrap();
        check_sink(&sink, |s| sample::record_count(s, topics))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Every line is a whole JSON document.
        for line in read(&path).lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}

#[tokio::test]
async fn file_holds_exactly_the_documents_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    let snapshots = sample::snapshots();
    let mut total = 0;
    for s in &snapshots {
        total += sink.write(s).await.unwrap().records;
    }
    sink.flush().await.unwrap();
    let text = read(&path);
    assert_eq!(text, expected_text(&sink, &snapshots));
    assert_eq!(text.lines().count(), total);
    assert!(text.ends_with('\n'));
    // Appending across a reopen keeps the earlier documents.
    drop(sink);
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    sink.write(&snapshots[0]).await.unwrap();
    let mut all = snapshots.clone();
    all.push(snapshots[0].clone());
    assert_eq!(read(&path), expected_text(&sink, &all));
}

#[tokio::test]
async fn creates_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/lag.ndjson");
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    assert!(path.is_file());
    assert_eq!(sink.path(), path.as_path());
}

#[tokio::test]
async fn errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("lag.ndjson");
    let err = FileSink::from_config("file", &config(&path)).unwrap_err();
    assert_eq!(err.component, "sink.file");
    assert!(err.message.contains(&*blocker.to_string_lossy()), "{err}");

    let err = FileSink::from_config("file", &config(Path::new("/"))).unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("file name"), "{err}");

    // A directory where the file should be.
    let taken = dir.path().join("taken");
    fs::create_dir(&taken).unwrap();
    let err = FileSink::from_config("file", &config(&taken)).unwrap_err();
    assert!(err.message.contains(&*taken.to_string_lossy()), "{err}");
}

#[tokio::test]
async fn rotates_by_size_before_the_write_that_would_exceed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let probe = FileSink::from_config("file", &config(&dir.path().join("probe/x.ndjson"))).unwrap();
    let one = snapshot_bytes(&probe, &sample::snapshot());
    // Room for two snapshots, not three.
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            rotate_bytes: one * 2 + one / 2,
            ..config(&path)
        },
    )
    .unwrap();
    let snapshots: Vec<Snapshot> = (0..5)
        .map(|i| sample::snapshot_at(SAMPLE_AT_MS + i * 10_000, i as u64 + 1))
        .collect();
    for s in &snapshots {
        sink.write(s).await.unwrap();
    }
    assert_eq!(
        names(dir.path()),
        [
            "lag-2019-08-19.1.ndjson",
            "lag-2019-08-19.2.ndjson",
            "lag.ndjson",
            "probe"
        ]
    );
    assert_eq!(
        read(&dir.path().join("lag-2019-08-19.1.ndjson")),
        expected_text(&sink, &snapshots[0..2])
    );
    assert_eq!(
        read(&dir.path().join("lag-2019-08-19.2.ndjson")),
        expected_text(&sink, &snapshots[2..4])
    );
    assert_eq!(read(&path), expected_text(&sink, &snapshots[4..5]));
}

#[tokio::test]
async fn oversized_snapshot_goes_whole_into_a_fresh_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            rotate_bytes: 100,
            ..config(&path)
        },
    )
    .unwrap();
    let a = sample::snapshot();
    let b = sample::snapshot_at(SAMPLE_AT_MS + 10_000, 2);
    sink.write(&a).await.unwrap();
    sink.write(&b).await.unwrap();
    // The first snapshot went into the empty file whole; the second rotated it away.
    assert_eq!(
        read(&dir.path().join("lag-2019-08-19.1.ndjson")),
        expected_text(&sink, &[a])
    );
    assert_eq!(read(&path), expected_text(&sink, std::slice::from_ref(&b)));
    // An empty snapshot writes nothing, so it does not rotate.
    sink.write(&sample::empty_snapshot(SAMPLE_AT_MS + 20_000, 3))
        .await
        .unwrap();
    assert_eq!(names(dir.path()).len(), 2);
}

#[tokio::test]
async fn rotates_when_the_utc_day_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let daily = FileSinkConfig {
        rotate_daily: true,
        ..config(&path)
    };
    let sink = FileSink::from_config("file", &daily).unwrap();
    let day1 = sample::snapshot();
    let day1_later = sample::snapshot_at(SAMPLE_AT_MS + 3_600_000, 2);
    let day2 = sample::snapshot_at(SAMPLE_AT_MS + DAY_MS, 3);
    sink.write(&day1).await.unwrap();
    sink.write(&day1_later).await.unwrap();
    sink.write(&day2).await.unwrap();
    assert_eq!(names(dir.path()), ["lag-2019-08-19.1.ndjson", "lag.ndjson"]);
    assert_eq!(
        read(&dir.path().join("lag-2019-08-19.1.ndjson")),
        expected_text(&sink, &[day1.clone(), day1_later])
    );
    assert_eq!(
        read(&path),
        expected_text(&sink, std::slice::from_ref(&day2))
    );

    // After a restart the day of the data in the file is read back from its last document.
    drop(sink);
    let sink = FileSink::from_config("file", &daily).unwrap();
    let day3 = sample::snapshot_at(SAMPLE_AT_MS + 2 * DAY_MS, 4);
    sink.write(&day3).await.unwrap();
    assert_eq!(
        names(dir.path()),
        [
            "lag-2019-08-19.1.ndjson",
            "lag-2019-08-20.1.ndjson",
            "lag.ndjson"
        ]
    );
    assert_eq!(
        read(&dir.path().join("lag-2019-08-20.1.ndjson")),
        expected_text(&sink, &[day2])
    );
    assert_eq!(read(&path), expected_text(&sink, &[day3]));
}

#[tokio::test]
async fn no_daily_rotation_when_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    sink.write(&sample::snapshot_at(SAMPLE_AT_MS + DAY_MS, 2))
        .await
        .unwrap();
    assert_eq!(names(dir.path()), ["lag.ndjson"]);
}

#[tokio::test]
async fn retention_keeps_the_newest_rotated_files_and_numbers_keep_growing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    // A rotated file of an older day, and an unrelated file that must survive.
    fs::write(dir.path().join("lag-2019-08-18.7.ndjson"), b"{}\n").unwrap();
    fs::write(dir.path().join("notes.txt"), b"keep me").unwrap();
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            rotate_bytes: 1,
            max_files: 2,
            ..config(&path)
        },
    )
    .unwrap();
    let snapshots: Vec<Snapshot> = (0..5)
        .map(|i| sample::snapshot_at(SAMPLE_AT_MS + i * 10_000, i as u64 + 1))
        .collect();
    for s in &snapshots {
        sink.write(s).await.unwrap();
    }
    // Four rotations (.1 … .4); only the two newest remain, the older day's file went first.
    assert_eq!(
        names(dir.path()),
        [
            "lag-2019-08-19.3.ndjson",
            "lag-2019-08-19.4.ndjson",
            "lag.ndjson",
            "notes.txt"
        ]
    );
    assert_eq!(
        read(&dir.path().join("lag-2019-08-19.4.ndjson")),
        expected_text(&sink, &snapshots[3..4])
    );

    // Retention also applies when opening with a smaller limit.
    drop(sink);
    FileSink::from_config(
        "file",
        &FileSinkConfig {
            max_files: 1,
            ..config(&path)
        },
    )
    .unwrap();
    assert_eq!(
        names(dir.path()),
        ["lag-2019-08-19.4.ndjson", "lag.ndjson", "notes.txt"]
    );
}

#[tokio::test]
async fn rotated_files_are_bounded_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    // Only the size limit changed: every write rotates.
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            rotate_bytes: 1,
            ..FileSinkConfig::new(&path)
        },
    )
    .unwrap();
    for i in 0..20 {
        sink.write(&sample::snapshot_at(
            SAMPLE_AT_MS + i * 10_000,
            i as u64 + 1,
        ))
        .await
        .unwrap();
    }
    let rotated = names(dir.path())
        .into_iter()
        .filter(|n| n != "lag.ndjson")
        .count();
    assert_eq!(rotated, 14, "{:?}", names(dir.path()));
    assert!(dir.path().join("lag-2019-08-19.19.ndjson").exists());
}

#[tokio::test]
async fn file_without_extension_rotates_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag");
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            rotate_bytes: 1,
            ..config(&path)
        },
    )
    .unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    assert_eq!(names(dir.path()), ["lag", "lag-2019-08-19.1"]);
}

#[tokio::test]
async fn torn_last_line_is_cut_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    let first = sample::snapshot();
    sink.write(&first).await.unwrap();
    drop(sink);
    let good = read(&path);
    // A crash in the middle of the next write left half a document.
    let torn = r#"{"@timestamp":"2019-08-19T08:32:20Z","burrow_gr"#;
    fs::write(&path, format!("{good}{torn}")).unwrap();

    let logs = CapturedLogs::default();
    let sink = tracing::subscriber::with_default(logs.subscriber(), || {
        FileSink::from_config("file", &config(&path))
    })
    .unwrap();
    assert_eq!(read(&path), good, "the torn line is removed at open");
    assert_eq!(sink.repaired_bytes(), torn.len() as u64);
    let log = logs.text();
    assert!(log.contains("WARN"), "{log}");
    assert!(
        log.contains(&format!("removed_bytes={}", torn.len())),
        "{log}"
    );
    assert!(log.contains("incomplete last line"), "{log}");
    let second = sample::snapshot_at(SAMPLE_AT_MS + 10_000, 2);
    sink.write(&second).await.unwrap();
    assert_eq!(read(&path), expected_text(&sink, &[first, second]));
    for line in read(&path).lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[tokio::test]
async fn file_without_any_newline_is_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    // Longer than one scan chunk, so the backwards scan crosses chunk boundaries.
    fs::write(&path, "x".repeat(200_000)).unwrap();
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(sink.repaired_bytes(), 200_000);
    sink.write(&sample::snapshot()).await.unwrap();
    assert_eq!(read(&path), expected_text(&sink, &[sample::snapshot()]));
}

#[tokio::test]
async fn newline_far_before_the_end_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let line = "{\"a\":1}\n";
    fs::write(&path, format!("{line}{}", "y".repeat(150_000))).unwrap();
    FileSink::from_config("file", &config(&path)).unwrap();
    assert_eq!(read(&path), line);
}

#[tokio::test]
async fn fsync_always_syncs_every_write_before_acknowledging() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            fsync: FsyncPolicy::Always,
            ..config(&path)
        },
    )
    .unwrap();
    assert_eq!(sink.syncs(), 0);
    sink.write(&sample::snapshot()).await.unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    assert_eq!(sink.syncs(), 2);
    // Nothing to write, nothing to sync.
    sink.write(&sample::empty_snapshot(SAMPLE_AT_MS, 3))
        .await
        .unwrap();
    assert_eq!(sink.syncs(), 2);
    sink.flush().await.unwrap();
    assert_eq!(sink.syncs(), 3);
}

#[tokio::test]
async fn fsync_never_syncs_only_on_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config(
        "file",
        &FileSinkConfig {
            fsync: FsyncPolicy::Never,
            ..config(&path)
        },
    )
    .unwrap();
    for _ in 0..3 {
        sink.write(&sample::snapshot()).await.unwrap();
    }
    assert_eq!(sink.syncs(), 0);
    // Written (visible to readers) even without a sync.
    assert_eq!(
        read(&path).lines().count(),
        3 * sample::record_count(&sample::snapshot(), true)
    );
    sink.flush().await.unwrap();
    assert_eq!(sink.syncs(), 1);
}

#[tokio::test]
async fn active_file_removed_externally_is_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.ndjson");
    let sink = FileSink::from_config("file", &config(&path)).unwrap();
    sink.write(&sample::snapshot()).await.unwrap();
    let moved: PathBuf = dir.path().join("moved-away.ndjson");
    fs::rename(&path, &moved).unwrap();
    sink.healthcheck().await.unwrap();
    let next = sample::snapshot_at(SAMPLE_AT_MS + 10_000, 2);
    sink.write(&next).await.unwrap();
    assert_eq!(read(&path), expected_text(&sink, &[next]));
    assert_eq!(read(&moved), expected_text(&sink, &[sample::snapshot()]));
}

/// Writing to a full device fails transiently, names the path, and the sink keeps working
/// (it is reopened on the next attempt). Linux's `/dev/full` rejects every write with ENOSPC.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_a_transient_error_naming_the_path() {
    let path = Path::new("/dev/full");
    let sink = FileSink::from_config("file", &config(path)).unwrap();
    for _ in 0..2 {
        let err = sink.write(&sample::snapshot()).await.unwrap_err();
        assert_eq!(err.class, ErrorClass::Transient, "{err}");
        assert!(err.message.contains("/dev/full"), "{err}");
    }
}

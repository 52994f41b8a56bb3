//! The librdkafka Admin API calls that rdkafka's safe API lacks, through `rdkafka::bindings`.
//!
//! This is the only module of the crate with `unsafe` code (the workspace denies
//! `unsafe_code`; it is allowed here and nowhere else): it calls the C functions of
//! librdkafka directly, because rdkafka 0.39 wraps neither ListConsumerGroups,
//! DescribeConsumerGroups, ListConsumerGroupOffsets nor ListOffsets.
//!
//! Invariants every function here keeps:
//!
//! * Every librdkafka object this module creates (configuration, queue, admin options, result event, topic
//!   partition list, ListConsumerGroupOffsets request) is owned by an RAII wrapper whose
//!   `Drop` calls the matching `*_destroy` function exactly once; no raw pointer to such an
//!   object escapes its wrapper's lifetime.
//! * Everything read from a result (strings, numbers, nested lists) points into memory owned
//!   by the result event; it is copied into owned Rust values before the [`Event`] wrapper
//!   is dropped, and no borrowed pointer survives the extracting function.
//! * C strings from librdkafka are checked for NULL before `CStr::from_ptr`; arrays are
//!   checked for NULL and read only up to the count librdkafka returned.
//! * Error codes and group state / type enums are read as plain `c_int`, never as the Rust
//!   enums of `rdkafka::bindings`: a broker may send an error code librdkafka's enum does not
//!   list (Kafka 4.x has codes above librdkafka's), and materialising such a value as a Rust
//!   enum would be undefined behaviour. The `extern` block below re-declares the few
//!   functions concerned with `c_int` results; a C enum is an `int`, so the ABI is the same.
//! * The `rd_kafka_t` handle is borrowed from an rdkafka [`NativeClient`] that outlives every
//!   call here (it is borrowed for the whole call); librdkafka handles are thread-safe, and
//!   each call uses its own temporary queue, so concurrent calls do not see each other's
//!   results.

#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::client::NativeClient;

use super::{
    AdminError, CommittedOffset, GroupDescription, GroupKind, GroupListing, GroupMember,
    GroupState, OffsetSpec, PartitionOffset,
};

// The same C functions as in `rdkafka::bindings`, declared with `c_int` instead of the
// generated Rust enums for the error codes and group states / types they return or take
// (see the module documentation). C enums are `int`s, so the ABI is identical.
unsafe extern "C" {
    fn rd_kafka_event_error(rkev: *mut rd::rd_kafka_event_t) -> c_int;
    fn rd_kafka_error_code(error: *const rd::rd_kafka_error_t) -> c_int;
    fn rd_kafka_err2name(err: c_int) -> *const c_char;
    fn rd_kafka_err2str(err: c_int) -> *const c_char;
    fn rd_kafka_ConsumerGroupListing_state(
        grplist: *const rd::rd_kafka_ConsumerGroupListing_t,
    ) -> c_int;
    fn rd_kafka_ConsumerGroupListing_type(
        grplist: *const rd::rd_kafka_ConsumerGroupListing_t,
    ) -> c_int;
    fn rd_kafka_ConsumerGroupDescription_state(
        grpdesc: *const rd::rd_kafka_ConsumerGroupDescription_t,
    ) -> c_int;
    fn rd_kafka_ConsumerGroupDescription_type(
        grpdesc: *const rd::rd_kafka_ConsumerGroupDescription_t,
    ) -> c_int;
    fn rd_kafka_conf_set(
        conf: *mut rd::rd_kafka_conf_t,
        name: *const c_char,
        value: *const c_char,
        errstr: *mut c_char,
        errstr_size: usize,
    ) -> c_int;
}

/// librdkafka's `RD_KAFKA_CONF_UNKNOWN`: no such property.
const CONF_UNKNOWN: c_int = -2;
/// librdkafka's `RD_KAFKA_CONF_OK`.
const CONF_OK: c_int = 0;

/// A configuration object of librdkafka's own, destroyed on drop.
struct Conf(NonNull<rd::rd_kafka_conf_t>);

impl Drop for Conf {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_conf_new, never handed to rd_kafka_new (which would take
        // ownership), destroyed exactly once here.
        unsafe { rd::rd_kafka_conf_destroy(self.0.as_ptr()) }
    }
}

/// Sets `key` to `value` on a throwaway librdkafka configuration and reports what librdkafka
/// said, without its message (which quotes the value).
pub(super) fn check_property(key: &str, value: &str) -> super::PropertyCheck {
    use super::PropertyCheck;
    let Ok(name) = CString::new(key) else {
        return PropertyCheck::Unknown;
    };
    let Ok(value) = CString::new(value) else {
        return PropertyCheck::InvalidValue;
    };
    // SAFETY: rd_kafka_conf_new has no preconditions; NULL (out of memory) is checked.
    let Some(conf) = NonNull::new(unsafe { rd::rd_kafka_conf_new() }).map(Conf) else {
        return PropertyCheck::InvalidValue;
    };
    let mut errstr = [0 as c_char; 512];
    // SAFETY: `conf` is a live configuration owned by this function; `name` and `value` are
    // NUL-terminated and outlive the call; `errstr` is writable for its whole length, which
    // is passed as its size.
    let result = unsafe {
        rd_kafka_conf_set(
            conf.0.as_ptr(),
            name.as_ptr(),
            value.as_ptr(),
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    match result {
        CONF_OK => PropertyCheck::Accepted,
        CONF_UNKNOWN => PropertyCheck::Unknown,
        _ => PropertyCheck::InvalidValue,
    }
}

/// librdkafka's `RD_KAFKA_RESP_ERR__TIMED_OUT`.
pub(super) const ERR_TIMED_OUT: i32 = -185;

/// Copies a NUL-terminated string owned by librdkafka; NULL gives `None`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the duration of the call.
unsafe fn opt_string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-NULL and NUL-terminated per the caller's contract.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Like [`opt_string`], NULL gives an empty string.
///
/// # Safety
/// As [`opt_string`].
unsafe fn string(p: *const c_char) -> String {
    // SAFETY: forwarded contract.
    unsafe { opt_string(p) }.unwrap_or_default()
}

/// A slice view of a librdkafka result array (`NULL` or empty gives `&[]`).
///
/// # Safety
/// `p` is NULL or points to `n` initialised pointers that stay valid for `'a`.
unsafe fn array<'a, T>(p: *const *const T, n: usize) -> &'a [*const T] {
    if p.is_null() || n == 0 {
        &[]
    } else {
        // SAFETY: per the caller's contract.
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

/// The fields of one `rd_kafka_topic_partition_t`, copied.
struct Partition {
    topic: String,
    partition: i32,
    offset: i64,
    /// The `err` field as a plain integer (see the module docs).
    err: i32,
}

/// Copies the fields of one topic partition, reading through the raw pointer only (no
/// reference to the C struct is made, as its `err` field may hold a code the Rust enum
/// does not list).
///
/// # Safety
/// `p` points to a valid, initialised `rd_kafka_topic_partition_t` alive for the call.
unsafe fn copy_partition(p: *const rd::rd_kafka_topic_partition_t) -> Partition {
    // SAFETY: valid pointer per the contract; `err` is a `#[repr(i32)]` field, i.e. 4
    // initialised bytes, read as an `i32` rather than as the enum.
    unsafe {
        Partition {
            topic: string(ptr::addr_of!((*p).topic).read()),
            partition: ptr::addr_of!((*p).partition).read(),
            offset: ptr::addr_of!((*p).offset).read(),
            err: ptr::addr_of!((*p).err).cast::<i32>().read(),
        }
    }
}

/// Copies every element of a topic partition list (`NULL` gives an empty list).
///
/// # Safety
/// `list` is NULL or a valid list alive (and unmodified) for the call.
unsafe fn copy_partitions(list: *const rd::rd_kafka_topic_partition_list_t) -> Vec<Partition> {
    if list.is_null() {
        return Vec::new();
    }
    // SAFETY: `list` is valid per the contract.
    let (elems, cnt) = unsafe { ((*list).elems, (*list).cnt) };
    match usize::try_from(cnt) {
        Ok(n) if !elems.is_null() => (0..n)
            // SAFETY: librdkafka keeps `cnt` initialised elements at `elems`.
            .map(|i| unsafe { copy_partition(elems.add(i)) })
            .collect(),
        _ => Vec::new(),
    }
}

/// `rd_kafka_err2name`, e.g. `_TIMED_OUT` or `GROUP_ID_NOT_FOUND`.
pub(super) fn err_name(code: i32) -> String {
    // SAFETY: err2name accepts any integer and returns a static string (or a
    // "ERR_<n>?" placeholder) that is never freed.
    unsafe { string(rd_kafka_err2name(code)) }
}

/// `rd_kafka_err2str`, e.g. `Local: Timed out`.
pub(super) fn err_description(code: i32) -> String {
    // SAFETY: as err_name: any integer, static result.
    unsafe { string(rd_kafka_err2str(code)) }
}

/// An [`AdminError::Kafka`] from an `rd_kafka_error_t` (NULL: no error).
///
/// # Safety
/// `error` is NULL or a valid error object alive for the call.
unsafe fn error_from(
    operation: &'static str,
    error: *const rd::rd_kafka_error_t,
) -> Option<AdminError> {
    if error.is_null() {
        return None;
    }
    // SAFETY: `error` is a valid error object per the contract.
    let (code, message) = unsafe {
        (
            rd_kafka_error_code(error),
            string(rd::rd_kafka_error_string(error)),
        )
    };
    Some(AdminError::kafka(operation, code, message))
}

/// Owns an `rd_kafka_queue_t` created with `rd_kafka_queue_new`.
struct Queue(NonNull<rd::rd_kafka_queue_t>);

impl Queue {
    fn new(rk: &NativeClient, operation: &'static str) -> Result<Queue, AdminError> {
        // SAFETY: `rk.ptr()` is a live client handle for the duration of the borrow.
        let q = unsafe { rd::rd_kafka_queue_new(rk.ptr()) };
        NonNull::new(q)
            .map(Queue)
            .ok_or_else(|| AdminError::internal(operation, "rd_kafka_queue_new returned NULL"))
    }

    /// Waits up to `timeout` for the next event; `None` when nothing arrived in time.
    fn poll(&self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = c_int::try_from(left.as_millis()).unwrap_or(c_int::MAX);
            // SAFETY: the queue is live (owned by self); poll returns NULL or a new event
            // that we own and destroy through `Event`.
            let ev = unsafe { rd::rd_kafka_queue_poll(self.0.as_ptr(), ms) };
            if let Some(ev) = NonNull::new(ev) {
                return Some(Event(ev));
            }
            // rd_kafka_queue_poll may return early (queue yield); retry until the deadline.
            if left.is_zero() || Instant::now() >= deadline {
                return None;
            }
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_queue_new, destroyed once. An admin request still in
        // flight holds its own reference to the underlying queue; its late result is
        // discarded by librdkafka.
        unsafe { rd::rd_kafka_queue_destroy(self.0.as_ptr()) }
    }
}

/// Owns an `rd_kafka_AdminOptions_t`.
struct Options(NonNull<rd::rd_kafka_AdminOptions_t>);

impl Options {
    fn new(
        rk: &NativeClient,
        op: rd::rd_kafka_admin_op_t,
        operation: &'static str,
        timeout: Duration,
    ) -> Result<Options, AdminError> {
        // SAFETY: live client handle; `op` is a valid enum value.
        let p = unsafe { rd::rd_kafka_AdminOptions_new(rk.ptr(), op) };
        let options = NonNull::new(p).map(Options).ok_or_else(|| {
            AdminError::internal(operation, "rd_kafka_AdminOptions_new returned NULL")
        })?;
        let ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
        let mut errstr = [0 as c_char; 512];
        // SAFETY: live options object; errstr is a writable buffer of the given size.
        let err = unsafe {
            rd::rd_kafka_AdminOptions_set_request_timeout(
                options.0.as_ptr(),
                ms,
                errstr.as_mut_ptr(),
                errstr.len(),
            )
        };
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            // SAFETY: librdkafka wrote a NUL-terminated message into errstr (zeroed, so
            // it is terminated even if it did not).
            let message = unsafe { string(errstr.as_ptr()) };
            return Err(AdminError::InvalidArgument {
                operation,
                message: format!("request timeout {timeout:?}: {message}"),
            });
        }
        Ok(options)
    }

    fn set_read_uncommitted(&self, operation: &'static str) -> Result<(), AdminError> {
        // SAFETY: live options object; the returned error (if any) is ours to destroy.
        let error = unsafe {
            rd::rd_kafka_AdminOptions_set_isolation_level(
                self.0.as_ptr(),
                rd::rd_kafka_IsolationLevel_t::RD_KAFKA_ISOLATION_LEVEL_READ_UNCOMMITTED,
            )
        };
        // SAFETY: `error` is NULL or a valid error object; copied before it is destroyed.
        let result = unsafe { error_from(operation, error) };
        if !error.is_null() {
            // SAFETY: we own the error returned by the setter; destroyed once.
            unsafe { rd::rd_kafka_error_destroy(error) };
        }
        result.map_or(Ok(()), Err)
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_AdminOptions_new, destroyed once; admin calls copy
        // the options, so in-flight requests do not reference this object.
        unsafe { rd::rd_kafka_AdminOptions_destroy(self.0.as_ptr()) }
    }
}

/// Owns an event returned by `rd_kafka_queue_poll`.
struct Event(NonNull<rd::rd_kafka_event_t>);

impl Event {
    fn ptr(&self) -> *mut rd::rd_kafka_event_t {
        self.0.as_ptr()
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: the event came from rd_kafka_queue_poll and is destroyed once; nothing
        // borrowed from it outlives the extracting function.
        unsafe { rd::rd_kafka_event_destroy(self.0.as_ptr()) }
    }
}

/// Owns an `rd_kafka_topic_partition_list_t`.
struct PartitionList(NonNull<rd::rd_kafka_topic_partition_list_t>);

impl PartitionList {
    fn new(capacity: usize, operation: &'static str) -> Result<PartitionList, AdminError> {
        let size = c_int::try_from(capacity).map_err(|_| {
            AdminError::invalid(operation, format!("{capacity} partitions are too many"))
        })?;
        // SAFETY: plain allocation.
        let p = unsafe { rd::rd_kafka_topic_partition_list_new(size) };
        NonNull::new(p).map(PartitionList).ok_or_else(|| {
            AdminError::internal(operation, "rd_kafka_topic_partition_list_new returned NULL")
        })
    }

    fn add(&mut self, topic: &CStr, partition: i32, offset: i64) {
        // SAFETY: live list owned by self; librdkafka copies the topic string; the
        // returned element points into the list and is written before any other call.
        unsafe {
            let elem =
                rd::rd_kafka_topic_partition_list_add(self.0.as_ptr(), topic.as_ptr(), partition);
            if let Some(mut elem) = NonNull::new(elem) {
                elem.as_mut().offset = offset;
            }
        }
    }
}

impl Drop for PartitionList {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_topic_partition_list_new, destroyed once; librdkafka
        // copies lists it keeps (ListOffsets copies its argument).
        unsafe { rd::rd_kafka_topic_partition_list_destroy(self.0.as_ptr()) }
    }
}

/// Owns one `rd_kafka_ListConsumerGroupOffsets_t` request object.
struct GroupOffsetsRequest(NonNull<rd::rd_kafka_ListConsumerGroupOffsets_t>);

impl Drop for GroupOffsetsRequest {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_ListConsumerGroupOffsets_new, destroyed once; the
        // admin call copies the request, so in-flight requests do not reference it.
        unsafe { rd::rd_kafka_ListConsumerGroupOffsets_destroy(self.0.as_ptr()) }
    }
}

/// The common part of every call: options with the request timeout, a private queue,
/// `start` to enqueue the request, then wait for the result event of `event_type` and turn
/// an event-level error into an [`AdminError`].
fn run(
    rk: &NativeClient,
    operation: &'static str,
    op: rd::rd_kafka_admin_op_t,
    event_type: c_int,
    timeout: Duration,
    configure: impl FnOnce(&Options) -> Result<(), AdminError>,
    start: impl FnOnce(
        *mut rd::rd_kafka_t,
        *const rd::rd_kafka_AdminOptions_t,
        *mut rd::rd_kafka_queue_t,
    ),
) -> Result<Event, AdminError> {
    let options = Options::new(rk, op, operation, timeout)?;
    configure(&options)?;
    let queue = Queue::new(rk, operation)?;
    start(rk.ptr(), options.0.as_ptr(), queue.0.as_ptr());
    // librdkafka enforces `timeout` itself and then posts a result with __TIMED_OUT; the
    // margin lets that (more informative) result win over our own deadline.
    let event = queue
        .poll(timeout + Duration::from_secs(1))
        .ok_or(AdminError::TimedOut { operation, timeout })?;
    // SAFETY: live event owned by `event`.
    let actual = unsafe { rd::rd_kafka_event_type(event.ptr()) };
    if actual != event_type {
        return Err(AdminError::internal(
            operation,
            format!("unexpected event type {actual} (expected {event_type})"),
        ));
    }
    // SAFETY: live event; the error string is copied before the event is destroyed.
    let (code, message) = unsafe {
        (
            rd_kafka_event_error(event.ptr()),
            opt_string(rd::rd_kafka_event_error_string(event.ptr())),
        )
    };
    if code != 0 {
        let message = message.unwrap_or_else(|| err_description(code));
        return Err(AdminError::kafka(operation, code, message));
    }
    Ok(event)
}

/// ListConsumerGroups without state or type filter: the valid listings and the per-broker
/// errors librdkafka reports next to them.
pub(super) fn list_consumer_groups(
    rk: &NativeClient,
    timeout: Duration,
) -> Result<(Vec<GroupListing>, Vec<AdminError>), AdminError> {
    const OP: &str = "ListConsumerGroups";
    let event = run(
        rk,
        OP,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS,
        rd::RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
        timeout,
        |_| Ok(()),
        // SAFETY: live client, options and queue (owned by `run` for the whole call).
        |rk, options, queue| unsafe { rd::rd_kafka_ListConsumerGroups(rk, options, queue) },
    )?;
    // SAFETY: the event is live until the end of this function and every value is copied
    // out of it before; arrays are read up to the counts librdkafka returns.
    unsafe {
        let result = rd::rd_kafka_event_ListConsumerGroups_result(event.ptr());
        if result.is_null() {
            return Err(AdminError::internal(
                OP,
                "the event holds no ListConsumerGroups result",
            ));
        }
        let mut n = 0usize;
        let valid = rd::rd_kafka_ListConsumerGroups_result_valid(result, &mut n);
        let groups = array(valid.cast_const(), n)
            .iter()
            .filter(|g| !g.is_null())
            .map(|&g| GroupListing {
                group: string(rd::rd_kafka_ConsumerGroupListing_group_id(g)),
                state: GroupState::from_code(rd_kafka_ConsumerGroupListing_state(g)),
                kind: GroupKind::from_code(rd_kafka_ConsumerGroupListing_type(g)),
                simple: rd::rd_kafka_ConsumerGroupListing_is_simple_consumer_group(g) != 0,
            })
            .collect();
        let mut m = 0usize;
        let errs = rd::rd_kafka_ListConsumerGroups_result_errors(result, &mut m);
        let errors = array(errs.cast_const(), m)
            .iter()
            .filter_map(|&e| error_from(OP, e))
            .collect();
        Ok((groups, errors))
    }
}

/// DescribeConsumerGroups for `groups` (non-empty, no duplicates), in request order.
pub(super) fn describe_consumer_groups(
    rk: &NativeClient,
    groups: &[CString],
    timeout: Duration,
) -> Result<Vec<GroupDescription>, AdminError> {
    const OP: &str = "DescribeConsumerGroups";
    let mut names: Vec<*const c_char> = groups.iter().map(|g| g.as_ptr()).collect();
    let event = run(
        rk,
        OP,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS,
        rd::RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
        timeout,
        |_| Ok(()),
        // SAFETY: live client, options and queue; `names` holds `names.len()` pointers to
        // NUL-terminated strings (borrowed from `groups`) that librdkafka copies.
        |rk, options, queue| unsafe {
            rd::rd_kafka_DescribeConsumerGroups(rk, names.as_mut_ptr(), names.len(), options, queue)
        },
    )?;
    // SAFETY: the event is live until the end of this function and every value is copied
    // out of it before; arrays and lists are read up to the counts librdkafka returns, and
    // member indexes stay below member_count.
    unsafe {
        let result = rd::rd_kafka_event_DescribeConsumerGroups_result(event.ptr());
        if result.is_null() {
            return Err(AdminError::internal(
                OP,
                "the event holds no DescribeConsumerGroups result",
            ));
        }
        let mut n = 0usize;
        let descs = rd::rd_kafka_DescribeConsumerGroups_result_groups(result, &mut n);
        let out = array(descs.cast_const(), n)
            .iter()
            .filter(|d| !d.is_null())
            .map(|&d| {
                let coordinator = rd::rd_kafka_ConsumerGroupDescription_coordinator(d);
                let members = (0..rd::rd_kafka_ConsumerGroupDescription_member_count(d))
                    .map(|i| rd::rd_kafka_ConsumerGroupDescription_member(d, i))
                    .filter(|m| !m.is_null())
                    .map(|m| {
                        let assignment = rd::rd_kafka_MemberDescription_assignment(m);
                        let partitions = if assignment.is_null() {
                            ptr::null()
                        } else {
                            rd::rd_kafka_MemberAssignment_partitions(assignment)
                        };
                        GroupMember {
                            member_id: string(rd::rd_kafka_MemberDescription_consumer_id(m)),
                            instance_id: opt_string(
                                rd::rd_kafka_MemberDescription_group_instance_id(m),
                            ),
                            client_id: string(rd::rd_kafka_MemberDescription_client_id(m)),
                            host: string(rd::rd_kafka_MemberDescription_host(m)),
                            assignment: copy_partitions(partitions)
                                .into_iter()
                                .map(|p| (p.topic, p.partition))
                                .collect(),
                        }
                    })
                    .collect();
                GroupDescription {
                    group: string(rd::rd_kafka_ConsumerGroupDescription_group_id(d)),
                    state: GroupState::from_code(rd_kafka_ConsumerGroupDescription_state(d)),
                    kind: GroupKind::from_code(rd_kafka_ConsumerGroupDescription_type(d)),
                    simple: rd::rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(d) != 0,
                    coordinator: (!coordinator.is_null())
                        .then(|| rd::rd_kafka_Node_id(coordinator)),
                    members,
                    error: error_from(OP, rd::rd_kafka_ConsumerGroupDescription_error(d)),
                }
            })
            .collect();
        Ok(out)
    }
}

/// ListConsumerGroupOffsets for one group and all its partitions (NULL partition list).
pub(super) fn list_consumer_group_offsets(
    rk: &NativeClient,
    group: &CStr,
    timeout: Duration,
) -> Result<Vec<CommittedOffset>, AdminError> {
    const OP: &str = "ListConsumerGroupOffsets";
    // SAFETY: `group` is NUL-terminated and copied by librdkafka; a NULL partition list
    // means "all partitions with committed offsets".
    let request = unsafe { rd::rd_kafka_ListConsumerGroupOffsets_new(group.as_ptr(), ptr::null()) };
    let request = NonNull::new(request)
        .map(GroupOffsetsRequest)
        .ok_or_else(|| {
            AdminError::internal(OP, "rd_kafka_ListConsumerGroupOffsets_new returned NULL")
        })?;
    let mut requests = [request.0.as_ptr()];
    let event = run(
        rk,
        OP,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
        rd::RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
        timeout,
        |_| Ok(()),
        // SAFETY: live client, options and queue; exactly one live request object, as
        // librdkafka requires ("MUST always be 1"); librdkafka copies it.
        |rk, options, queue| unsafe {
            rd::rd_kafka_ListConsumerGroupOffsets(rk, requests.as_mut_ptr(), 1, options, queue)
        },
    )?;
    drop(request);
    // SAFETY: the event is live until the end of this function and every value is copied
    // out of it before; arrays and lists are read up to the counts librdkafka returns.
    unsafe {
        let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event.ptr());
        if result.is_null() {
            return Err(AdminError::internal(
                OP,
                "the event holds no ListConsumerGroupOffsets result",
            ));
        }
        let mut n = 0usize;
        let groups = rd::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut n);
        let Some(&g) = array(groups.cast_const(), n).iter().find(|g| !g.is_null()) else {
            return Err(AdminError::internal(OP, "the result holds no group"));
        };
        if let Some(err) = error_from(OP, rd::rd_kafka_group_result_error(g)) {
            return Err(err);
        }
        Ok(copy_partitions(rd::rd_kafka_group_result_partitions(g))
            .into_iter()
            .map(|p| CommittedOffset {
                topic: p.topic,
                partition: p.partition,
                // RD_KAFKA_OFFSET_INVALID (-1001) and any other negative value: nothing
                // committed.
                offset: (p.offset >= 0).then_some(p.offset),
                error: (p.err != 0).then(|| AdminError::kafka(OP, p.err, err_description(p.err))),
            })
            .collect())
    }
}

/// ListOffsets for `partitions` (non-empty, no duplicates), read_uncommitted.
pub(super) fn list_offsets(
    rk: &NativeClient,
    partitions: &[(CString, i32)],
    spec: OffsetSpec,
    timeout: Duration,
) -> Result<Vec<PartitionOffset>, AdminError> {
    const OP: &str = "ListOffsets";
    let wanted = match spec {
        OffsetSpec::Earliest => rd::rd_kafka_OffsetSpec_t::RD_KAFKA_OFFSET_SPEC_EARLIEST as i64,
        OffsetSpec::Latest => rd::rd_kafka_OffsetSpec_t::RD_KAFKA_OFFSET_SPEC_LATEST as i64,
    };
    let mut list = PartitionList::new(partitions.len(), OP)?;
    for (topic, partition) in partitions {
        list.add(topic, *partition, wanted);
    }
    let event = run(
        rk,
        OP,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTOFFSETS,
        rd::RD_KAFKA_EVENT_LISTOFFSETS_RESULT,
        timeout,
        |options| options.set_read_uncommitted(OP),
        // SAFETY: live client, options, queue and list; librdkafka copies the list.
        |rk, options, queue| unsafe {
            rd::rd_kafka_ListOffsets(rk, list.0.as_ptr(), options, queue)
        },
    )?;
    drop(list);
    // SAFETY: the event is live until the end of this function and every value is copied
    // out of it before; the array is read up to the count librdkafka returns.
    unsafe {
        let result = rd::rd_kafka_event_ListOffsets_result(event.ptr());
        if result.is_null() {
            return Err(AdminError::internal(
                OP,
                "the event holds no ListOffsets result",
            ));
        }
        let mut n = 0usize;
        let infos = rd::rd_kafka_ListOffsets_result_infos(result, &mut n);
        Ok(array(infos.cast_const(), n)
            .iter()
            .filter(|i| !i.is_null())
            .map(|&info| rd::rd_kafka_ListOffsetsResultInfo_topic_partition(info))
            .filter(|p| !p.is_null())
            .map(|p| {
                let p = copy_partition(p);
                PartitionOffset {
                    topic: p.topic,
                    partition: p.partition,
                    offset: if p.err == 0 {
                        Ok(p.offset)
                    } else {
                        Err(AdminError::kafka(OP, p.err, err_description(p.err)))
                    },
                }
            })
            .collect())
    }
}

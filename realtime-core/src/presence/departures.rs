//! Departures storage may not have announced: leaves that failed (storage down, stalled
//! or refusing), tried again until storage answers, and leaves of a connection storage
//! does not know ([`LeaveOutcome::NotFound`]). So a member that left during an outage
//! still gets its one `presence.left` once storage is back, also after a restart that lost
//! every key.
//!
//! The leave is sent again (it sweeps the channel first, so a lease that expired meanwhile
//! has its departures announced by that sweep, atomically, once). When the connection is
//! not found and the member is not present any more, the channel's entries since shortly
//! before the leave say whether its departure was announced; when they do not (storage
//! lost its keys, and with them the member and its `presence.joined`), this process
//! appends the `presence.left` itself.

use std::sync::{Arc, Weak};

use crate::backend::{Backend, BackendError, LeaveOutcome, PresenceLeave, ReadRange};
use crate::channel_name::ChannelName;
use crate::cursor::Cursor;
use crate::hub::CATCH_UP_PAGE;
use crate::member::{JOINED_EVENT, LEFT_EVENT};
use crate::util::Backoff;

/// How far before the failed leave the channel's entries are searched for the member's
/// departure, for clocks apart between this process and storage.
const CLOCK_SLACK_MS: u64 = 60_000;

/// A connection whose departure is not confirmed.
#[derive(Debug)]
pub(crate) struct FailedLeave {
    pub(crate) channel: ChannelName,
    pub(crate) lease: Arc<str>,
    pub(crate) connection: Arc<str>,
    pub(crate) member: String,
    /// The member's record, the data of the `presence.left` this process may append.
    pub(crate) record: Arc<str>,
    /// When the leave was first tried (ms since the epoch).
    pub(crate) since_ms: u64,
}

/// Tries `leave` again with back-off until its departure is confirmed or the handle (its
/// `backend`) is dropped; at once when `now` (a leave that found nothing), else after the
/// first wait.
pub(crate) async fn confirm_until_done(backend: Weak<dyn Backend>, leave: FailedLeave, now: bool) {
    let mut backoff = Backoff::READS;
    let mut first = now;
    loop {
        if !std::mem::take(&mut first) {
            tokio::time::sleep(backoff.next_delay()).await;
        }
        let Some(backend) = backend.upgrade() else {
            return;
        };
        match confirm(&backend, &leave).await {
            Ok(()) => {
                tracing::info!(
                    channel = leave.channel.as_str(),
                    member = leave.member,
                    "presence leave confirmed after a failure"
                );
                return;
            }
            Err(error) => {
                tracing::debug!(channel = leave.channel.as_str(), member = leave.member, %error, "presence leave still failing");
            }
        }
    }
}

/// One attempt: leave again, then make sure the departure is announced once.
async fn confirm(backend: &Arc<dyn Backend>, leave: &FailedLeave) -> Result<(), BackendError> {
    let channel = leave.channel.as_str();
    let sent = PresenceLeave {
        lease: &leave.lease,
        connection: &leave.connection,
        member: &leave.member,
    };
    match backend.presence_leave(channel, sent).await? {
        LeaveOutcome::Announced(_) | LeaveOutcome::StillPresent => return Ok(()),
        LeaveOutcome::NotFound => {}
    }
    // The connection is gone: a sweep announced its departure, or storage lost its keys;
    // the member may be present through another process's connection.
    let present = backend.presence_members(channel).await?;
    if present
        .iter()
        .any(|record| member_of(record).as_deref() == Some(leave.member.as_str()))
    {
        return Ok(());
    }
    if departure_announced(backend, leave).await? {
        return Ok(());
    }
    let id = backend.append(channel, LEFT_EVENT, &leave.record).await?;
    tracing::info!(channel, member = leave.member, %id, "presence.left appended for a member whose departure storage lost");
    Ok(())
}

/// Whether the member's newest presence entry since shortly before the failed leave is a
/// `presence.left`.
async fn departure_announced(
    backend: &Arc<dyn Backend>,
    leave: &FailedLeave,
) -> Result<bool, BackendError> {
    let start = Cursor::new(leave.since_ms.saturating_sub(CLOCK_SLACK_MS), 0);
    let mut range = ReadRange::from_included(start, CATCH_UP_PAGE);
    let mut newest = None;
    loop {
        let page = backend.read(leave.channel.as_str(), range).await?;
        for entry in &page {
            let is_presence = &*entry.event == JOINED_EVENT || &*entry.event == LEFT_EVENT;
            if is_presence && member_of(&entry.data).as_deref() == Some(leave.member.as_str()) {
                newest = Some(&*entry.event == LEFT_EVENT);
            }
        }
        match page.last() {
            Some(last) if page.len() == CATCH_UP_PAGE => {
                range = ReadRange::after(Some(last.id), CATCH_UP_PAGE);
            }
            _ => return Ok(newest == Some(true)),
        }
    }
}

/// The member id of a record `{"member": .., "info": ..}`.
fn member_of(record: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(record).ok()?;
    value.get("member")?.as_str().map(str::to_owned)
}

//! How a command ends (RFC 3501 §7.1): the tagged OK, NO or BAD, and the
//! NO replies for storage errors with the response codes of RFC 5530.

use super::super::store::StoreError;

/// How a command ended, before the tagged line is written.
pub(super) enum Reply {
    Ok(String),
    No(String),
    Bad(String),
    /// The handler already wrote the tagged line (STARTTLS).
    Sent,
    /// The session is over (LOGOUT, a lost connection, a BYE).
    Close,
}

pub(super) fn ok(text: impl Into<String>) -> Reply {
    Reply::Ok(text.into())
}
pub(super) fn no(text: impl Into<String>) -> Reply {
    Reply::No(text.into())
}
pub(super) fn bad(text: impl Into<String>) -> Reply {
    Reply::Bad(text.into())
}

/// The NO reply for a store error, with the response codes of RFC 5530.
pub(super) fn store_error(e: &StoreError) -> Reply {
    match e {
        StoreError::NoFolder => no("[NONEXISTENT] no such mailbox"),
        StoreError::Exists => no("[ALREADYEXISTS] mailbox already exists"),
        StoreError::BadName(why) => no(format!("[CANNOT] bad mailbox name: {why}")),
        StoreError::Inbox => no("[CANNOT] INBOX cannot be deleted or renamed"),
        StoreError::NoUser => no("[NONEXISTENT] no such user"),
        StoreError::Io(_) => no("[SERVERBUG] storage failed"),
    }
}

/// The NO reply for a store error when messages were to go into a folder
/// (APPEND, COPY): a missing folder gets TRYCREATE, which tells the client
/// to CREATE it and try again (RFC 3501 §6.3.11, §6.4.7).
pub(super) fn destination_error(e: &StoreError) -> Reply {
    match e {
        StoreError::NoFolder => no("[TRYCREATE] no such mailbox"),
        e => store_error(e),
    }
}

//! imap dialogue parser (in progress).

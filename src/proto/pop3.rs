//! pop3 dialogue parser (in progress).

//! smtp dialogue parser (in progress).

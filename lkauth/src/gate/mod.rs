//! `lkauth gate`: forward authorization for reverse proxies (in progress: the route table).

mod original;
pub mod policy;
mod preset;
mod template;

pub use self::original::{
    X_FORWARDED_HOST, X_FORWARDED_METHOD, X_FORWARDED_URI, X_ORIGINAL_METHOD, X_ORIGINAL_URI,
};
pub use self::policy::{Policy, PolicyError};
pub use self::preset::{preset_text, PRESETS};

//! What the crate tells the `metrics` facade (feature `metrics`): the library emits, the
//! application installs the recorder. The names and labels are listed in the crate docs
//! ("Metrics"); each layer keeps its own keys beside its code (`verify/metrics.rs`,
//! `middleware/metrics.rs`), and this module holds what they share.
//!
//! Every key is a `static` built at compile time, so that emitting allocates nothing and,
//! without a recorder, costs one atomic load.

use metrics::{Key, Level, Metadata};

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// A `&'static Key` with static labels, each label value a `&'static str` constant. (The labels
/// are a `static` of their own: a `Label` has a destructor, so a temporary array of them would
/// not live for `'static`.)
macro_rules! key {
    ($name:literal $(, $label:literal = $value:expr)*) => {{
        static LABELS: &[::metrics::Label] =
            &[$(::metrics::Label::from_static_parts($label, $value)),*];
        static KEY: ::metrics::Key = ::metrics::Key::from_static_parts($name, LABELS);
        &KEY
    }};
}
pub(crate) use key;

/// Adds one to the counter `key`.
#[inline]
pub(crate) fn count(key: &'static Key) {
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
}

/// The value of the label `name` of `key` (empty if it has none), for the tests of the keys.
#[cfg(test)]
pub(crate) fn label(key: &Key, name: &str) -> String {
    key.labels()
        .find(|l| l.key() == name)
        .map(|l| l.value().to_owned())
        .unwrap_or_default()
}

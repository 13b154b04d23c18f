//! The README shows the very files the tests run.

const README: &str = include_str!("../../../README.md");

/// The body of the one fenced block of `language` in the README.
fn block(language: &str) -> &'static str {
    let fence = format!("```{language}\n");
    let mut blocks = README.split(fence.as_str()).skip(1);
    let block = blocks
        .next()
        .unwrap_or_else(|| panic!("the README has no {language} block"));
    assert!(blocks.next().is_none(), "one {language} block only");
    let end = block.find("\n```").expect("the block ends");
    &block[..=end]
}

#[test]
fn the_readme_shows_the_configurations_the_tests_run() {
    assert_eq!(
        block("nginx"),
        include_str!("../../proxies/nginx/livekit.conf"),
        "copy lkauth/proxies/nginx/livekit.conf into README.md (the gate's section)"
    );
    assert_eq!(
        block("caddyfile"),
        include_str!("../../proxies/caddy/Caddyfile"),
        "copy lkauth/proxies/caddy/Caddyfile into README.md (the gate's section)"
    );
}

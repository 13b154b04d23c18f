//! Prints the token set (one per line) and the rejection tokens, for inspection and for other
//! tools (`run.sh` feeds none of them anywhere but this machine).
fn main() {
    use tower_livekit_auth_bench::tokens;
    for t in tokens::accepted() {
        println!("{t}");
    }
    println!("# bad_signature\n{}", tokens::bad_signature());
    println!("# expired\n{}", tokens::expired());
    println!("# unknown_key\n{}", tokens::unknown_key());
}

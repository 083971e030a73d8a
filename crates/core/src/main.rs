fn main() {
    println!("keepalived-rs {}", env!("CARGO_PKG_VERSION"));
}

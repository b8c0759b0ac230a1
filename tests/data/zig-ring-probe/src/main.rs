fn main() {
    let d = ring::digest::digest(&ring::digest::SHA256, b"abc");
    println!("{:02x?}", d.as_ref());
}

//! Prints what an input decodes to, for reading a finding: `cargo run --example show -- TARGET FILE`.

use arrow_cabi_fuzz::case::ArrayCase;
use arrow_cabi_fuzz::desc::SchemaDesc;
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::stream::Script;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[2]).expect("a readable input");
    let mut input = Reader::new(&bytes);
    match args[1].as_str() {
        "schema_import" => println!("{:#?}", SchemaDesc::read(&mut input)),
        "stream_import" => {
            println!("array stream: {}", input.u8() % 2 == 1);
            println!("{:#?}", Script::read(&mut input));
        }
        _ => {
            let case = ArrayCase::read(&mut input);
            println!("type: {}", case.data_type);
            println!("call: {}", case.call % 3);
            println!("{:#?}", case.desc);
        }
    }
}

//! CLI transcripts: `--help` of every command and the errors for bad arguments, checked
//! against tests/cmd/*.toml (regenerate with TRYCMD=overwrite after an intended change).

#[test]
fn cli_transcripts() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}

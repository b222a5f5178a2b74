/// What `--version` prints. The man page's title names it (ManPageTests) and `make deb` reads it
/// from this line for the package's version, so it is kept on a line of its own, as it is.
let version = "0.1.0"

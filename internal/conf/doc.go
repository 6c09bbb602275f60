// Package conf reads nats-server configuration files into a tree of
// positioned values, so that "starling server -c nats-server.conf" sees what
// nats-server would see. It only parses; mapping keys to server options is
// done by the options layer.
//
// The format, as nats-server's conf package reads it:
//
//   - A file is a list of "key value", "key = value" or "key: value"
//     entries, ended by a newline, ';' or ','. A top-level key may be
//     separated from its value by newlines; "port\n4222" sets port.
//   - Keys are bare words (ending at white space, '=' or ':') or quoted with
//     '...' or "..." (no escapes). Keys are case-sensitive here.
//   - "{ ... }" is a map, "[ ... ]" an array. Map entries are separated by
//     newlines, ';' or ','; array elements by newlines or ','. A trailing
//     comma is fine; an empty element ("[1,,2]") or a comma at the start of
//     a line inside an array is not. The whole file may be wrapped in
//     braces, as a JSON object would be.
//   - '#' and '//' start a comment where a key or the end of a value is
//     expected; where a value is expected they are text ("a = #x" is "#x").
//   - "..." strings take the escapes \t \n \r \" \\ and \xHH; '...' strings
//     are raw. Unquoted words take the same escapes and end at a blank,
//     newline, ';', ',', ']' or '}' (a single quote also ends one and is
//     dropped). A multi-line raw string is written "key (" ... ")" with the
//     ')' alone at the start of a line.
//   - true/false, yes/no, on/off in any letter case are booleans unless
//     quoted.
//   - A value starting with a digit is an integer, a float, an address such
//     as 127.0.0.1:4222 (two dots or more), a Zulu datetime, or else a
//     string ("3secret", "2s", "500ms"). Integers take unit suffixes (see
//     ParseSize): 1K is 1000, 1KB and 1KiB are 1024, and 1m is 1000000,
//     not a minute, so durations must be quoted or use units such as s
//     or h that are not size suffixes. Floats have no exponent.
//   - $name, as a whole unquoted word, is replaced by the value of the key
//     name set earlier in the current block or an enclosing one, else by the
//     environment variable name parsed as a value; anything else is an
//     error. "$2a$..." bcrypt hashes are left as they are.
//   - "include path" (path bare or quoted) merges the top-level keys of
//     another file at that point. The path is relative to the including
//     file. The included file does not see the includer's variables.
//
// Every Value and map key keeps its position; errors are *Error values
// that print as "file:line:col: message".
//
// Deliberate differences from nats-server, all on input it mangles
// silently: this package rejects an unterminated string or key at the end
// of the input, a key with no value before a map's '}', an integer with an
// unknown unit ("1kbb") or one that overflows ("8EB"), a top-level '{'
// that is never closed, NUL bytes, include cycles, and nesting deeper than
// 100 levels. A block string closed by a ')' at the very end of the file
// does not keep the ')'; nats-server keeps it in that one case.
package conf

// Package limits bounds how much of the server one caller, one address and
// everyone together may use: [Rate] counts events per key in a sliding
// budget (calls per minute, failed sign-ins per window), [Slots] bounds
// what is held at once per key and in total (calls in flight, sessions,
// streams), and [ClientAddr] names the address a request comes from,
// believing forwarding headers only from trusted proxies.
//
// Everything here is safe for concurrent use and bounded in memory, and
// nothing blocks: a caller over a limit is told so at once, with how long
// to wait where waiting helps.
package limits

// Package syslog is the syslog input of capture: listeners for [RFC 5424]
// and [RFC 3164] messages over TCP, UDP and TLS that turn each message into
// a [capture.Record] and hand batches of them to a [capture.Sink].
//
// # Framing
//
// Over TCP and TLS a stream carries many messages. Each frame is either
// octet-counted, "LEN SP MSG" ([RFC 6587] section 3.4.1, the only framing
// [RFC 5425] allows over TLS, and what rsyslog sends with
// TCP_Framing="octet-counted"), or ends at an LF (section 3.4.2, the
// traditional framing). The choice is made per frame: a frame that starts
// with a non-zero digit, at most nine more digits and a space is
// octet-counted, so octet counting keeps embedded newlines. Over UDP each
// datagram is one message ([RFC 5426]).
//
// A message longer than [MaxFrame] (64 KiB) is not parsed: its first
// 64 KiB are kept as an unparsed record and the rest is skipped.
//
// # Parsing
//
// [Parser.Parse] tries RFC 5424 first, then RFC 3164, with
// github.com/leodido/go-syslog/v4's machines in best-effort mode. A
// message neither reads is never dropped: its record has Unparsed saying
// why and Raw holding the bytes, plus the priority (and an RFC 5424
// header's fields up to the fault), so routing still works. For example
//
//	<165>1 2003-10-11T22:14:15.003Z web1 sshd 42 ID47 [origin@32473 user="ann"] BOMAccepted key
//
// becomes a record with Time 2003-10-11T22:14:15.003Z and the fields
//
//	log.syslog.priority                        165
//	log.syslog.facility.code, .name            20, "local4"
//	log.syslog.severity.code, .name            5, "notice"
//	log.syslog.version                         1
//	log.syslog.hostname, .appname              "web1", "sshd"
//	log.syslog.procid, .msgid                  "42", "ID47"
//	log.syslog.structured_data.origin@32473.user  "ann"
//	message                                    "Accepted key"
//	log.syslog.format                          "rfc5424"
//	source.ip, source.port, network.transport  the peer, and "tcp", "udp" or "tls"
//
// and over TLS with a client certificate, tls.client.subject.
//
// # Delivery
//
// Syslog has no acknowledgement. [Server] stops reading a TCP or TLS
// connection while its batch cannot be stored (a source's rate limit, a
// full queue), which slows the sender down through TCP's flow control;
// UDP cannot be slowed down, so a UDP batch is retried a few times and
// then dropped and counted (lbm_syslog_dropped_total). docs/ingest.md says
// what each channel can promise and recommends one that keeps the
// guarantee.
//
// [RFC 3164]: https://www.rfc-editor.org/rfc/rfc3164
// [RFC 5424]: https://www.rfc-editor.org/rfc/rfc5424
// [RFC 5425]: https://www.rfc-editor.org/rfc/rfc5425
// [RFC 5426]: https://www.rfc-editor.org/rfc/rfc5426
// [RFC 6587]: https://www.rfc-editor.org/rfc/rfc6587
package syslog

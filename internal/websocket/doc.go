// Package websocket is the sans-IO WebSocket codec of the Go front (RFC 6455 with
// RFC 7692 permessage-deflate). The front holds every client connection; Python
// workers only see whole messages (WS_MSG and WS_CLOSE in docs/protocol.md), so this
// package does the parts a worker never should: the opening handshake, framing,
// masking, fragmentation, compression and the validation rules whose failure closes
// the connection.
//
// It never touches a socket and never answers anything by itself:
//
//   - [CheckUpgrade] validates an upgrade request parsed by internal/front/http1 and
//     negotiates permessage-deflate; [AppendAccept] writes the 101 response.
//   - [Reader] reads client frames from a *bufio.Reader. [Reader.ReadMessage] returns
//     whole data messages (reassembled and inflated) and control frames as events
//     (ping, pong, close), so the caller decides what to answer and when.
//   - [AppendFrame], [AppendClose] and [Writer.AppendMessage] produce server frames
//     (unmasked) into a caller's buffer.
//
// Every protocol violation is an [*Error] carrying the close code the server should
// send (1002, 1007 or 1009) before closing; any other error comes from the underlying
// reader (io.EOF at a frame boundary, io.ErrUnexpectedEOF inside a frame), after which
// the peer has gone away (report 1006 to the worker).
//
// # Compression and memory
//
// compress/flate always uses a 32 KiB (15-bit) window, so an offer asking the server
// to compress with server_max_window_bits below 15 is declined; client_max_window_bits
// needs nothing from us (a 15-bit inflater reads any smaller window). With server
// context takeover each connection keeps its own flate.Writer, allocated at its first
// compressed message (1.2 MB at BestSpeed, 0.8 MB at other levels); with
// server_no_context_takeover writers come from a shared pool and are held only while
// a message is compressed. With client context takeover a connection keeps the last
// 32 KiB of inflated data; inflaters are always pooled.
package websocket

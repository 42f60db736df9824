package h2

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"golang.org/x/net/http2"
)

// Config is what a Conn advertises and enforces. The zero value works:
// every zero field takes the RFC default or gunicorn's.
type Config struct {
	// MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS: streams past
	// it are refused with REFUSED_STREAM. 0 means 100 (gunicorn's default).
	MaxConcurrentStreams uint32
	// InitialWindowSize is SETTINGS_INITIAL_WINDOW_SIZE, the request body
	// bytes a stream may have in flight before its handler reads them.
	// 0 means 65535.
	InitialWindowSize int32
	// MaxFrameSize is SETTINGS_MAX_FRAME_SIZE, the largest frame payload we
	// accept, 16384..16777215. 0 means 16384.
	MaxFrameSize uint32
	// MaxHeaderListSize is SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2
	// sizing: name + value + 32 per field); a request over it gets 431.
	// 0 means no limit is advertised; header blocks are still capped at
	// 1 MiB of HPACK input.
	MaxHeaderListSize uint32
	// IdleTimeout closes the connection (GOAWAY NO_ERROR) once it has had
	// no open stream for this long. 0 means never.
	IdleTimeout time.Duration
	// HeaderTimeout bounds the time from the start of Serve to the end of
	// the first request's header block. 0 means no bound.
	HeaderTimeout time.Duration

	// settingsTimeout is defaultSettingsTimeout unless a test sets it.
	settingsTimeout time.Duration
}

const (
	defaultMaxStreams  = 100
	defaultWindow      = 65535
	minMaxFrameSize    = 16384
	maxMaxFrameSize    = 1<<24 - 1
	maxWindow          = 1<<31 - 1
	defaultTableSize   = 4096
	unlimitedBlockSize = 1 << 20
	// connWindow is the connection-level receive window. It is granted
	// back as DATA arrives, not as handlers read: the per-stream windows
	// are what hold a slow handler's client back, and a stream nobody
	// reads must not stall the others.
	connWindow = 1 << 20
	// defaultSettingsTimeout is how long a client has, from its preface
	// on, to acknowledge our SETTINGS before the connection ends with
	// SETTINGS_TIMEOUT (RFC 9113 §6.5.3). Until it does we must allow for
	// a client still on the RFC defaults (a new stream's receive window is
	// the larger of the default and ours), and a client that never does
	// would keep that for as long as it liked. Real clients acknowledge
	// within a round trip; 10 s leaves room for the slowest links.
	defaultSettingsTimeout = 10 * time.Second
)

func (c Config) withDefaults() Config {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = defaultMaxStreams
	}
	if c.InitialWindowSize <= 0 {
		c.InitialWindowSize = defaultWindow
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = minMaxFrameSize
	}
	c.MaxFrameSize = min(max(c.MaxFrameSize, minMaxFrameSize), maxMaxFrameSize)
	if c.settingsTimeout <= 0 {
		c.settingsTimeout = defaultSettingsTimeout
	}
	return c
}

// settings is our SETTINGS frame: only the values that differ from the
// RFC defaults, plus the stream limit, which has none.
func (c Config) settings() []http2.Setting {
	ss := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: c.MaxConcurrentStreams},
		{ID: http2.SettingEnablePush, Val: 0},
	}
	if c.InitialWindowSize != defaultWindow {
		ss = append(ss, http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(c.InitialWindowSize)})
	}
	if c.MaxFrameSize != minMaxFrameSize {
		ss = append(ss, http2.Setting{ID: http2.SettingMaxFrameSize, Val: c.MaxFrameSize})
	}
	if c.MaxHeaderListSize > 0 {
		ss = append(ss, http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.MaxHeaderListSize})
	}
	return ss
}

// blockLimit caps the HPACK input of one header block, CONTINUATION
// frames included, so that a header block cannot grow without bound.
func (c Config) blockLimit() int {
	if c.MaxHeaderListSize == 0 {
		return unlimitedBlockSize
	}
	return int(min(c.MaxHeaderListSize, unlimitedBlockSize)) + 16<<10
}

// peerSettings are the client's SETTINGS values in force.
type peerSettings struct {
	headerTableSize   uint32
	enablePush        uint32
	initialWindowSize uint32
	maxFrameSize      uint32
	maxHeaderListSize uint32 // 0: no limit announced
}

func defaultPeerSettings() peerSettings {
	return peerSettings{
		headerTableSize:   defaultTableSize,
		enablePush:        1,
		initialWindowSize: defaultWindow,
		maxFrameSize:      minMaxFrameSize,
	}
}

// apply applies one setting. Values are applied in the order they come,
// and a value may repeat (RFC 9113 §6.5.3); windowDelta is how much every
// stream's send window moves when SETTINGS_INITIAL_WINDOW_SIZE changes.
// Unknown settings are ignored (§6.5.2).
func (p *peerSettings) apply(s http2.Setting) (windowDelta int64, err error) {
	switch s.ID {
	case http2.SettingHeaderTableSize:
		p.headerTableSize = s.Val
	case http2.SettingEnablePush:
		if s.Val > 1 {
			return 0, connError{http2.ErrCodeProtocol, "SETTINGS_ENABLE_PUSH must be 0 or 1"}
		}
		p.enablePush = s.Val
	case http2.SettingInitialWindowSize:
		if s.Val > maxWindow {
			return 0, connError{http2.ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1"}
		}
		windowDelta = int64(s.Val) - int64(p.initialWindowSize)
		p.initialWindowSize = s.Val
	case http2.SettingMaxFrameSize:
		if s.Val < minMaxFrameSize || s.Val > maxMaxFrameSize {
			return 0, connError{http2.ErrCodeProtocol, "SETTINGS_MAX_FRAME_SIZE outside 16384..16777215"}
		}
		p.maxFrameSize = s.Val
	case http2.SettingMaxHeaderListSize:
		p.maxHeaderListSize = s.Val
	}
	return windowDelta, nil
}

// parseSettings splits a SETTINGS payload into its values, in order.
func parseSettings(b []byte) ([]http2.Setting, error) {
	if len(b)%6 != 0 {
		return nil, errors.New("h2: a SETTINGS payload is a whole number of 6-byte entries")
	}
	ss := make([]http2.Setting, 0, len(b)/6)
	for ; len(b) > 0; b = b[6:] {
		ss = append(ss, http2.Setting{ID: http2.SettingID(binary.BigEndian.Uint16(b)), Val: binary.BigEndian.Uint32(b[2:])})
	}
	return ss, nil
}

// DecodeSettingsHeader decodes the HTTP2-Settings header of an h2c
// upgrade request (RFC 7540 §3.2.1): base64url, padded or not, of a
// SETTINGS payload whose values must be usable. A server that cannot use
// them does not upgrade.
func DecodeSettingsHeader(v []byte) ([]byte, error) {
	for len(v) > 0 && v[len(v)-1] == '=' {
		v = v[:len(v)-1]
	}
	b := make([]byte, base64.RawURLEncoding.DecodedLen(len(v)))
	n, err := base64.RawURLEncoding.Decode(b, v)
	if err != nil {
		return nil, errors.New("h2: HTTP2-Settings is not base64url: " + err.Error())
	}
	b = b[:n]
	ss, err := parseSettings(b)
	if err != nil {
		return nil, err
	}
	p := defaultPeerSettings()
	for _, s := range ss {
		if _, err := p.apply(s); err != nil {
			return nil, errors.New("h2: HTTP2-Settings: " + err.(connError).reason)
		}
	}
	return b, nil
}

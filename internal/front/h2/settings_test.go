package h2

import (
	"encoding/base64"
	"testing"

	"golang.org/x/net/http2"
)

func TestPeerSettingsInOrder(t *testing.T) {
	iw := http2.SettingInitialWindowSize
	tests := []struct {
		name   string
		in     []http2.Setting
		deltas []int64
		window uint32
		code   ErrCode // 0 with ok
		ok     bool
	}{
		{"one value", []http2.Setting{{ID: iw, Val: 100}}, []int64{100 - 65535}, 100, 0, true},
		// RFC 9113 §6.5.3: values are processed in order; h2spec 6.5.3.
		{"repeated value", []http2.Setting{{ID: iw, Val: 100}, {ID: iw, Val: 1}}, []int64{100 - 65535, -99}, 1, 0, true},
		{"back up", []http2.Setting{{ID: iw, Val: 0}, {ID: iw, Val: 70000}}, []int64{-65535, 70000}, 70000, 0, true},
		{"max window", []http2.Setting{{ID: iw, Val: 1<<31 - 1}}, []int64{1<<31 - 1 - 65535}, 1<<31 - 1, 0, true},
		{"window too large", []http2.Setting{{ID: iw, Val: 1 << 31}}, nil, 0, http2.ErrCodeFlowControl, false},
		{"push 2", []http2.Setting{{ID: http2.SettingEnablePush, Val: 2}}, nil, 0, http2.ErrCodeProtocol, false},
		{"frame size small", []http2.Setting{{ID: http2.SettingMaxFrameSize, Val: 16383}}, nil, 0, http2.ErrCodeProtocol, false},
		{"frame size large", []http2.Setting{{ID: http2.SettingMaxFrameSize, Val: 1 << 24}}, nil, 0, http2.ErrCodeProtocol, false},
		{"unknown ignored", []http2.Setting{{ID: 0x99, Val: 7}}, []int64{0}, 65535, 0, true},
	}
	for _, tt := range tests {
		p := defaultPeerSettings()
		var deltas []int64
		var err error
		for _, s := range tt.in {
			var d int64
			if d, err = p.apply(s); err != nil {
				break
			}
			deltas = append(deltas, d)
		}
		if tt.ok {
			if err != nil {
				t.Errorf("%s: got %v; want no error", tt.name, err)
				continue
			}
			if p.initialWindowSize != tt.window {
				t.Errorf("%s: window got %d; want %d", tt.name, p.initialWindowSize, tt.window)
			}
			if len(deltas) != len(tt.deltas) {
				t.Errorf("%s: deltas got %v; want %v", tt.name, deltas, tt.deltas)
				continue
			}
			for i := range deltas {
				if deltas[i] != tt.deltas[i] {
					t.Errorf("%s: deltas got %v; want %v", tt.name, deltas, tt.deltas)
				}
			}
			continue
		}
		ce, isConn := err.(connError)
		if !isConn || ce.code != tt.code {
			t.Errorf("%s: got %v; want connection error %v", tt.name, err, tt.code)
		}
	}
}

func TestDecodeSettingsHeader(t *testing.T) {
	payload := func(ss ...http2.Setting) []byte { return appendSettings(nil, ss)[frameHeaderLen:] }
	good := payload(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20000}, http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	tests := []struct {
		name string
		in   string
		want []byte
		ok   bool
	}{
		{"raw url", base64.RawURLEncoding.EncodeToString(good), good, true},
		{"padded", base64.URLEncoding.EncodeToString(good[:6]), good[:6], true},
		{"empty", "", []byte{}, true},
		{"std alphabet", "+/+/+/+/", nil, false},
		{"not whole entries", base64.RawURLEncoding.EncodeToString(good[:5]), nil, false},
		{"bad value", base64.RawURLEncoding.EncodeToString(payload(http2.Setting{ID: http2.SettingEnablePush, Val: 3})), nil, false},
	}
	for _, tt := range tests {
		got, err := DecodeSettingsHeader([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("%s: got error %v; want ok %v", tt.name, err, tt.ok)
			continue
		}
		if tt.ok && string(got) != string(tt.want) {
			t.Errorf("%s: got %x; want %x", tt.name, got, tt.want)
		}
	}
}

func TestOurSettings(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []http2.Setting
	}{
		{Config{}, []http2.Setting{{ID: http2.SettingMaxConcurrentStreams, Val: 100}, {ID: http2.SettingEnablePush, Val: 0}}},
		{Config{MaxConcurrentStreams: 7, InitialWindowSize: 1 << 20, MaxFrameSize: 1 << 15, MaxHeaderListSize: 65536},
			[]http2.Setting{{ID: http2.SettingMaxConcurrentStreams, Val: 7}, {ID: http2.SettingEnablePush, Val: 0},
				{ID: http2.SettingInitialWindowSize, Val: 1 << 20}, {ID: http2.SettingMaxFrameSize, Val: 1 << 15},
				{ID: http2.SettingMaxHeaderListSize, Val: 65536}}},
	}
	for _, tt := range tests {
		got := tt.cfg.withDefaults().settings()
		if len(got) != len(tt.want) {
			t.Errorf("%+v: got %v; want %v", tt.cfg, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%+v: got %v; want %v", tt.cfg, got, tt.want)
				break
			}
		}
	}
}

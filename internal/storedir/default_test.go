package storedir

import "testing"

func TestDefaultFrom(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"systemd state directory", map[string]string{"STATE_DIRECTORY": "/var/lib/starling", "HOME": "/home/u"}, "/var/lib/starling"},
		{"systemd, several directories", map[string]string{"STATE_DIRECTORY": "/var/lib/a:/var/lib/b"}, "/var/lib/a"},
		{"systemd relative is ignored", map[string]string{"STATE_DIRECTORY": "rel", "HOME": "/home/u"}, "/home/u/.local/state/starling"},
		{"xdg state home", map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}, "/x/state/starling"},
		{"xdg relative is ignored", map[string]string{"XDG_STATE_HOME": "x/state", "HOME": "/home/u"}, "/home/u/.local/state/starling"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/starling"},
		{"nothing", map[string]string{}, ""},
		{"relative home", map[string]string{"HOME": "."}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaultFrom(func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVolatileType(t *testing.T) {
	tests := []struct {
		magic uint32
		name  string
		ok    bool
	}{
		{0x01021994, "tmpfs", true},
		{0x858458f6, "ramfs", true},
		{0xef53, "", false},     // ext4
		{0x58465342, "", false}, // xfs
	}
	for _, tt := range tests {
		name, ok := volatileType(tt.magic)
		if name != tt.name || ok != tt.ok {
			t.Errorf("%#x: got %q %v", tt.magic, name, ok)
		}
	}
}

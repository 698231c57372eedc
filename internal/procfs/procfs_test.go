package procfs

import "testing"

func TestField(t *testing.T) {
	status := []byte("Name:\tcivicam\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nRssFile:\t    2048 kB\nwchar: 123456\n")
	tests := []struct {
		key  string
		want uint64
	}{
		{"VmRSS:", 10240},
		{"VmHWM:", 20480},
		{"RssFile:", 2048},
		{"wchar:", 123456},
		{"VmSwap:", 0},
		{"Name:", 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := Field(status, tt.key); got != tt.want {
				t.Errorf("Field(%q) = %d; want %d", tt.key, got, tt.want)
			}
		})
	}
}

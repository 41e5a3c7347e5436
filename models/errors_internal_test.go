package models

import "testing"

func TestCountedAgreesAndSeparatesThousands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want string
	}{
		{0, "0 codes"},
		{1, "1 code"},
		{2, "2 codes"},
		{999, "999 codes"},
		{1000, "1,000 codes"},
		{12500, "12,500 codes"},
		{1234567, "1,234,567 codes"},
		{-1500, "-1,500 codes"},
	}
	for _, tt := range tests {
		if got := counted(tt.n, "code", "codes"); got != tt.want {
			t.Errorf("counted(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

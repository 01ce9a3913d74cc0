package bitmapist

import "testing"

func TestExpireStyleOf(t *testing.T) {
	for _, tc := range []struct {
		info string
		want expireStyle
	}{
		{"# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n", expireNX},
		{"# Server\r\nredis_version:7.2.4\r\nvalkey_version:8.0.1\r\n", expireNX},
		{"# Server\r\nredis_version:10.0.0\r\n", expireNX},
		{"# Server\r\nredis_version:6.2.14\r\n", expireScript},
		{"# Server\nredis_version:5.0.7\n", expireScript},
		{"redis_version:2.8.24", expireScript},
		{"# Server\r\nredis_version:x.y\r\n", expireNX}, // unreadable: the command answers
		{"# Clients\r\nconnected_clients:1\r\n", expireNX},
		{"", expireNX},
	} {
		if got := expireStyleOf(tc.info); got != tc.want {
			t.Errorf("expireStyleOf(%q) = %d, want %d", tc.info, got, tc.want)
		}
	}
}

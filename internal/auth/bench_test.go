package auth

import (
	"log/slog"
	"testing"
	"time"
)

// BenchmarkVerify measures the request-path cost of token verification.
// The cached path is what nearly every request takes; the goal is <= 2µs/op.
func BenchmarkVerify(b *testing.B) {
	exp := t0.Add(10 * 365 * 24 * time.Hour)
	quiet := VerifierOptions{Logger: slog.New(slog.DiscardHandler)}

	b.Run("cached", func(b *testing.B) {
		env := newEnv(b, nil, quiet)
		token := sign(b, keyA(), accessToken(exp))
		env.mustVerify(token)
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
		if n := env.f.introspectCalls.Load(); n != 1 {
			b.Errorf("introspection calls = %d, want 1", n)
		}
	})

	for _, k := range []testKey{keyA(), keyEC()} {
		b.Run("local-jwt-check/"+string(k.alg), func(b *testing.B) {
			env := newEnv(b, nil, quiet)
			env.v.Warm(b.Context())
			token := sign(b, k, accessToken(exp))
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, bad := env.v.checkJWT(ctx, token); bad != nil {
					b.Fatal(bad)
				}
			}
		})
	}

	b.Run("uncached", func(b *testing.B) {
		// Each op starts after the previous verdict expired: the JWT check
		// plus an introspection round trip to the local fake.
		env := newEnv(b, nil, quiet)
		env.v.Warm(b.Context())
		token := sign(b, keyA(), accessToken(exp))
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			env.clock.Advance(DefaultCacheTTL)
			if _, err := env.v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
}

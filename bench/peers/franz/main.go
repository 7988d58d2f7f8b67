// franz-consumer: the franz-go peer of bench/run.py (case franz). Consumes N messages of a topic
// from the start with a fresh consumer group, like samsa-bench's raw loop: no commits (the raw
// loop stores no offsets), every payload byte read with the checksum of bench_checksum
// (bench/raw_consumer.h: the wrapping sum of the payload's little-endian 8-byte words, the last
// partial word zero-padded), timed from the group's first assignment to the N-th message.
//
//	franz-consumer --brokers B --topic T --messages N
//
// The last line is `franz N messages in S s: R msg/s`; the line before it a JSON object with
// the same figures, the payload bytes and the checksum.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// checksum is bench_checksum: it adds the little-endian 8-byte words of b to sum.
func checksum(sum uint64, b []byte) uint64 {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		sum += binary.LittleEndian.Uint64(b[i:])
	}
	if i < len(b) {
		var word [8]byte
		copy(word[:], b[i:])
		sum += binary.LittleEndian.Uint64(word[:])
	}
	return sum
}

// franzVersion is the franz-go version the binary was built with (go.mod).
func franzVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/twmb/franz-go" {
				return dep.Version
			}
		}
	}
	return "?"
}

func main() {
	brokers := flag.String("brokers", "", "bootstrap servers")
	topic := flag.String("topic", "", "topic, consumed from the start")
	messages := flag.Int64("messages", 0, "how many messages to consume")
	flag.Parse()
	if *brokers == "" || *topic == "" || *messages <= 0 {
		fmt.Fprintln(os.Stderr, "franz-consumer: --brokers, --topic and --messages are required")
		os.Exit(2)
	}
	var once sync.Once
	var assigned time.Time
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*brokers),
		kgo.ConsumerGroup(fmt.Sprintf("bench-franz-%d", rand.Int63())),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			once.Do(func() { assigned = time.Now() })
		}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "franz-consumer:", err)
		os.Exit(1)
	}
	var seen, bytes int64
	var sum uint64
	ctx := context.Background()
	for seen < *messages {
		fetches := cl.PollFetches(ctx)
		if errs := fetches.Errors(); len(errs) > 0 {
			fmt.Fprintln(os.Stderr, "franz-consumer: fetch error:", errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if seen < *messages {
				sum = checksum(sum, r.Value)
				bytes += int64(len(r.Value))
				seen++
			}
		})
	}
	seconds := time.Since(assigned).Seconds()
	cl.Close()
	rate := float64(seen) / seconds
	out, _ := json.Marshal(map[string]any{
		"mode": "franz", "messages": seen, "seconds": seconds, "msg_per_s": rate,
		"mb_per_s": float64(bytes) / 1e6 / seconds, "bytes": bytes, "checksum": fmt.Sprintf("%016x", sum),
		"client": "franz-go " + franzVersion(),
	})
	fmt.Println(string(out))
	fmt.Printf("franz %d messages in %.3f s: %.0f msg/s\n", seen, seconds, rate)
}

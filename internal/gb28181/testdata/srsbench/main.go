// Command srsbench is the GB/T 28181 device of srs-bench (github.com/ossrs/srs-bench, MIT),
// built in a module of its own so that its dependencies stay out of civicam's go.mod. civicam's
// tests build it into a temporary directory and run it as an independent device:
//
//	srsbench -sfu gb28181 -pr tcp://127.0.0.1:5060 -user 34020000001320000001 \
//		-server 34020000002000000001 -domain 3402000000 -sa avatar.aac -sv avatar.h264 -fps 25
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ossrs/srs-bench/gb28181"
)

func main() {
	ctx := context.Background()
	if err := gb28181.Run(ctx, gb28181.Parse(ctx)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

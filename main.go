// Command civicam is the software of a city's public-safety image information system: the
// server, its administration and its verification, in one binary. Run `civicam help`.
package main

import (
	"os"

	"civicam/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}

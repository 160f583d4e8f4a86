// rulecheck validates Prometheus rule files and PromQL expressions with Prometheus's own parsers
// (model/rulefmt, promql/parser): the checks `promtool check rules` makes, without building promtool's
// service-discovery dependencies. Used by tests/deploy when promtool itself is not installed.
//
//	rulecheck rules FILE...   parse and validate rule files (YAML shape, PromQL, templates, durations)
//	rulecheck exprs FILE      one PromQL expression per line; prints the metric names each one selects
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rulecheck rules FILE... | rulecheck exprs FILE")
		os.Exit(2)
	}
	failed := false
	p := parser.NewParser(parser.Options{})
	switch os.Args[1] {
	case "rules":
		for _, file := range os.Args[2:] {
			groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, p, promslog.NewNopLogger())
			for _, err := range errs {
				fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
				failed = true
			}
			if groups != nil {
				n := 0
				for _, g := range groups.Groups {
					n += len(g.Rules)
				}
				fmt.Printf("%s: %d rules found\n", file, n)
			}
		}
	case "exprs":
		f, err := os.Open(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		scanner := bufio.NewScanner(f)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		line := 0
		for scanner.Scan() {
			line++
			if scanner.Text() == "" {
				continue
			}
			expr, err := p.ParseExpr(scanner.Text())
			if err != nil {
				fmt.Fprintf(os.Stderr, "line %d: %v\n", line, err)
				failed = true
				fmt.Println()
				continue
			}
			names := map[string]bool{}
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				if vs, ok := node.(*parser.VectorSelector); ok {
					names[vs.Name] = true
				}
				return nil
			})
			sorted := make([]string, 0, len(names))
			for name := range names {
				sorted = append(sorted, name)
			}
			sort.Strings(sorted)
			fmt.Println(strings.Join(sorted, " "))
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

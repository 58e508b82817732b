using System.Globalization;
using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Benchmarks;

/// <summary>
/// Makes a large CPU profile shaped like one from a busy Go service: Go-style names (methods on pointer
/// receivers, generics, closures), inlined frames (locations with several lines), deep and recursive stacks,
/// a skewed distribution (a few hot stacks, a long tail) and the sample types and period of runtime/pprof.
/// Deterministic: the same parameters give the same bytes.
/// </summary>
internal sealed class LargeProfileGenerator
{
    private static readonly string[] Packages =
    [
        "main", "runtime", "net/http", "net", "bufio", "io", "bytes", "strings", "strconv", "sort", "sync",
        "encoding/json", "encoding/binary", "compress/gzip", "compress/flate", "crypto/tls", "crypto/sha256",
        "database/sql", "context", "time", "reflect", "fmt", "math/big", "regexp", "text/template",
        "github.com/acme/shop/internal/cart", "github.com/acme/shop/internal/orders",
        "github.com/acme/shop/internal/payments", "github.com/acme/shop/internal/catalog",
        "github.com/acme/shop/internal/search", "github.com/acme/shop/pkg/cache", "github.com/acme/shop/pkg/telemetry",
        "google.golang.org/grpc", "google.golang.org/grpc/internal/transport", "google.golang.org/protobuf/proto",
        "google.golang.org/protobuf/internal/impl", "github.com/jackc/pgx/v5/pgconn", "github.com/redis/go-redis/v9",
        "go.uber.org/zap", "go.uber.org/zap/zapcore", "github.com/prometheus/client_golang/prometheus",
    ];

    private static readonly string[] Types =
    [
        "conn", "Server", "Client", "Reader", "Writer", "Encoder", "decodeState", "Buffer", "Pool", "Mutex",
        "Handler", "Service", "Repository", "Cache", "Tx", "Stmt", "Rows", "Stream", "http2Client", "loopyWriter",
        "MessageInfo", "Logger", "ioCore", "Histogram", "Order", "Cart", "Index", "shard", "mheap", "mcache", "gcWork",
    ];

    private static readonly string[] Verbs =
    [
        "Read", "Write", "Serve", "Handle", "Get", "Put", "Lookup", "Encode", "Decode", "Marshal", "Unmarshal",
        "Query", "Exec", "Scan", "Next", "Flush", "Lock", "Unlock", "Observe", "Compute", "Validate", "Apply", "Search",
        "Sort", "hash", "grow", "alloc", "sweep", "scanobject", "value", "object", "literalStore", "compress", "fill",
    ];

    /// <summary>The part of the fleet's samples one replica sees (<see cref="GenerateReplica"/>).</summary>
    public const double ReplicaShare = 0.05;

    private readonly Random _random;
    private readonly int _seed;
    private readonly Random _fleetRates; // replicas only: its own sequence, so that Generate's bytes stay the same
    private Random? _replica;
    private readonly ProfileBuilder _builder;
    private readonly List<string> _functionNames = [];
    private readonly List<int[]> _callSites = []; // per function: its location indexes (call sites)
    private readonly List<int[]> _callees = [];   // per function: functions it calls
    private readonly List<int> _locationFunctions = []; // per location: the (not inlined) function it is in
    private readonly int _functionCount;

    public LargeProfileGenerator(int seed = 20261125, int functionCount = 6000)
    {
        _random = new Random(seed);
        _seed = seed;
        _fleetRates = new Random(seed);
        _functionCount = functionCount;
        _builder = new ProfileBuilder([new ValueType("samples", "count"), new ValueType("cpu", "nanoseconds")])
        {
            PeriodType = new ValueType("cpu", "nanoseconds"),
            Period = 10_000_000,
            TimeNanos = 1_764_000_000_000_000_000,
            DurationNanos = 600_000_000_000,
        };
    }

    /// <summary>
    /// Builds the profile: about <paramref name="distinctStacks"/> stacks in families that share their root
    /// part (as the calls under one handler do), written family by family like a profile written in tree order.
    /// </summary>
    public Profile Generate(int distinctStacks, Action<string>? progress = null)
    {
        int mapping = _builder.AddMapping(new Mapping(1, 0x400000, 0x2000000, 0, "/usr/local/bin/shop", "9f8e7d6c5b4a", true, true, true, true));
        MakeFunctions();
        MakeCallGraph(mapping);
        progress?.Invoke($"{_functionCount} functions, {_callSites.Sum(s => s.Length)} locations");

        Label[][] labelSets =
        [
            [],
            [new Label("handler", "/api/v1/orders", 0, null)],
            [new Label("handler", "/api/v1/cart", 0, null), new Label("tenant", "acme corp", 0, null)],
        ];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var basePath = new List<int>(128);
        var variant = new List<int>(128);
        var values = new long[2];
        int stacks = 0;
        while (stacks < distinctStacks)
        {
            Walk(basePath, 0, _random.Next(20, 64));
            int familySize = _random.Next(4, 40);
            for (int v = 0; v < familySize && stacks < distinctStacks; v++)
            {
                variant.Clear();
                // Siblings differ near the leaf: a few frames replaced, a few more called.
                int keep = Math.Max(1, basePath.Count - _random.Next(1, 7));
                variant.AddRange(basePath.Take(keep));
                Walk(variant, keep, keep + _random.Next(1, 9));
                int[] leafFirst = [.. Enumerable.Reverse(variant)];
                if (!seen.Add(string.Join(',', leafFirst)))
                {
                    continue;
                }

                stacks++;
                // Counts are heavy-tailed: most stacks were seen a few times, some thousands of times.
                long count = 1 + (long)(Math.Pow(_random.NextDouble(), 6) * 5000);
                // One in three stacks also appears under pprof labels: a separate record, as runtime/pprof writes it.
                // Drawn before anything is added, so that every replica walks the same stacks in the same order.
                int labelled = _random.Next(3) == 0 ? 1 + _random.Next(2) : 0;
                // A replica's fleet rate has the same heavy tail, drawn from its own sequence.
                double fleetRate = _replica is null ? 0 : 1 + Math.Pow(_fleetRates.NextDouble(), 6) * 5000;
                AddRecord(leafFirst, count, labelSets[0], values, fleetRate);
                if (labelled > 0)
                {
                    AddRecord(leafFirst, 1, labelSets[labelled], values, 1);
                }
            }
        }

        return _builder.Build();
    }

    /// <summary>
    /// The profile of one instance among many replicas of the same service: the same functions, locations and
    /// stacks as <see cref="Generate"/> with the same seed, but each record's count is what this instance saw: a
    /// Poisson draw of <see cref="ReplicaShare"/> of the fleet's rate for the stack. Rates are heavy-tailed (a few
    /// hot stacks, a long tail) and the same for every replica; records drawn as 0 are left out, so the tail of
    /// the stacks differs from replica to replica.
    /// </summary>
    public Profile GenerateReplica(int distinctStacks, int replica)
    {
        _replica = new Random(unchecked(_seed * 31 + replica));
        return Generate(distinctStacks);
    }

    private void AddRecord(int[] leafFirst, long count, Label[] labels, long[] values, double fleetRate)
    {
        if (_replica is not null)
        {
            count = Poisson(_replica, fleetRate * ReplicaShare);
            if (count == 0)
            {
                return;
            }
        }

        values[0] = count;
        values[1] = count * 10_000_000;
        _builder.AddSample(leafFirst, values, labels);
    }

    private static long Poisson(Random random, double mean)
    {
        if (mean > 30)
        {
            // Normal approximation (Box–Muller): exact enough for counts this large.
            double gauss = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return Math.Max(0, (long)Math.Round(mean + Math.Sqrt(mean) * gauss));
        }

        // Knuth's method.
        double limit = Math.Exp(-mean), product = random.NextDouble();
        long k = 0;
        while (product > limit)
        {
            k++;
            product *= random.NextDouble();
        }

        return k;
    }

    private void MakeFunctions()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (names.Count < _functionCount)
        {
            string pkg = Packages[_random.Next(Packages.Length)];
            string type = Types[_random.Next(Types.Length)];
            string verb = Verbs[_random.Next(Verbs.Length)] + (_random.Next(3) == 0 ? Verbs[_random.Next(Verbs.Length)] : "");
            string name = _random.Next(10) switch
            {
                0 or 1 or 2 => $"{pkg}.(*{type}).{verb}",
                3 => $"{pkg}.{type}.{verb}",
                4 => $"{pkg}.(*{type}[...]).{verb}",
                5 => $"{pkg}.{verb}[...]",
                6 => $"{pkg}.(*{type}).{verb}.func{_random.Next(1, 6)}",
                7 => $"{pkg}.{verb}.func{_random.Next(1, 4)}.{_random.Next(1, 3)}",
                _ => $"{pkg}.{verb}",
            };
            if (names.Add(name))
            {
                string file = $"/src/{pkg}/{type.ToLowerInvariant()}.go";
                _builder.AddFunction(name, name, file, _random.Next(20, 3000));
                _functionNames.Add(name);
            }
        }
    }

    private void MakeCallGraph(int mapping)
    {
        // Functions sit in layers; calls go to deeper layers, and a few recurse (json value/object, tree walks).
        const int Layers = 40;
        var lines = new Line[3];
        for (int f = 0; f < _functionCount; f++)
        {
            int layer = f * Layers / _functionCount;
            int calleeCount = layer == Layers - 1 ? 0 : _random.Next(2, 9);
            var callees = new int[calleeCount];
            for (int c = 0; c < calleeCount; c++)
            {
                int lo = (layer + 1) * _functionCount / Layers;
                int hi = Math.Min(_functionCount, (layer + 3) * _functionCount / Layers);
                callees[c] = _random.Next(10) == 0 ? f : _random.Next(lo, hi);
            }

            _callees.Add(callees);
            int siteCount = _random.Next(2, 7);
            var sites = new int[siteCount];
            for (int s = 0; s < siteCount; s++)
            {
                // A third of the call sites carry inlined callees: lines list the innermost first.
                int inlined = _random.Next(3) == 0 ? _random.Next(1, 3) : 0;
                int line = 0;
                for (int i = 0; i < inlined; i++)
                {
                    lines[line++] = new Line(_random.Next(_functionCount), _random.Next(10, 900), 0);
                }

                lines[line++] = new Line(f, _random.Next(10, 900), 0);
                ulong address = 0x400000 + (ulong)(f * 64 + s) * 16;
                sites[s] = _builder.AddLocation(lines.AsSpan(0, line), mapping, address);
                _locationFunctions.Add(f);
            }

            _callSites.Add(sites);
        }
    }

    /// <summary>
    /// Extends <paramref name="path"/> (root-first locations; its first <paramref name="keep"/> entries stay) by a
    /// random walk down the call graph, at most <paramref name="depthLimit"/> deep; an empty path starts at an
    /// entry point.
    /// </summary>
    private void Walk(List<int> path, int keep, int depthLimit)
    {
        path.RemoveRange(keep, path.Count - keep);
        int function;
        if (path.Count == 0)
        {
            int entries = Math.Max(_functionCount / 14, 1);
            function = (int)(Math.Pow(_random.NextDouble(), 2) * entries);
        }
        else
        {
            int[] callees = _callees[_locationFunctions[path[^1]]];
            if (callees.Length == 0)
            {
                return;
            }

            function = callees[_random.Next(callees.Length)];
        }

        while (true)
        {
            int[] sites = _callSites[function];
            path.Add(sites[(int)(Math.Pow(_random.NextDouble(), 2) * sites.Length)]);
            int[] callees = _callees[function];
            if (callees.Length == 0 || path.Count >= depthLimit)
            {
                return;
            }

            function = callees[(int)(Math.Pow(_random.NextDouble(), 2) * callees.Length)];
        }
    }

    public static string Describe(Profile profile, long gzipBytes, long rawBytes) => string.Create(
        CultureInfo.InvariantCulture,
        $"{profile.SampleCount:N0} samples, {profile.StackCount:N0} distinct stacks, {profile.Locations.Length:N0} locations, {profile.Functions.Length:N0} functions; {gzipBytes / 1048576.0:F1} MiB gzip, {rawBytes / 1048576.0:F1} MiB raw ({(double)rawBytes / gzipBytes:F1}x)");
}

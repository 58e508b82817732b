using System.IO.Compression;
using System.Text;
using System.Xml.Linq;
using Flamewright.Pprof;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using static Flamewright.Testing.Wire;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Testing;

/// <summary>What every door (the engine, an agent's upload, <c>flamewright analyze</c>) must do with a hostile profile.</summary>
internal enum HostileOutcome
{
    /// <summary>Refused with a one-line reason; nothing of it is stored.</summary>
    Refused,

    /// <summary>Read, stored and analysed like any profile.</summary>
    Handled,
}

/// <summary>One kind of hostile profile and what must come of it.</summary>
/// <param name="Name">How tests name the case.</param>
/// <param name="Outcome">Refused or handled.</param>
/// <param name="Reason">Refused: text the one-line reason contains (it names the problem; offsets vary).</param>
/// <param name="SampleCount">Handled: the samples it has.</param>
/// <param name="Total">Handled: the flame graph's total by the default sample type (cpu, the last one).</param>
/// <param name="Names">Handled: function names the flame graph must show exactly so (untrusted text, decoded).</param>
/// <param name="Build">Makes the bytes and says how long they are once inflated (for bombs: more than any limit).</param>
internal sealed record HostileProfile(
    string Name, HostileOutcome Outcome, string? Reason, int SampleCount, long Total, IReadOnlyList<string> Names,
    Func<(byte[] Bytes, long Plain)> Build)
{
    private readonly Lazy<(byte[] Bytes, long Plain)> _built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The bytes to feed a door: built once per test process (the bombs take a moment).</summary>
    public byte[] Bytes => _built.Value.Bytes;

    /// <summary>How many bytes of protobuf the input holds once inflated.</summary>
    public long PlainLength => _built.Value.Plain;

    public bool IsRefused => Outcome == HostileOutcome.Refused;

    /// <summary>Handled: the hostile part is the names' text, which every output must carry intact and inert.</summary>
    public bool HostileText { get; init; }

    public override string ToString() => Name;
}

/// <summary>
/// The hostile profiles of docs/reliability.md — truncated, corrupt, gzip bombs, huge string tables, deep stacks, a million
/// samples, absurd ids, negative values, HTML in names, invalid UTF-8 — each built here, once, for every door's
/// tests (the server and CLI test projects compile this file too). The base of most is <see cref="Ordinary"/>:
/// a small CPU profile whose numbers are known.
/// </summary>
internal static class HostileProfiles
{
    /// <summary>
    /// What bombs inflate to: above the default <see cref="PprofLimits.MaxDecompressedBytes"/> (256 MiB), so that
    /// every door refuses them with its default settings.
    /// </summary>
    public const long BombBytes = 300L << 20;

    /// <summary>Frames of the deep-stack cases: far beyond Go's 64 or 128, within the analysis limit of 65 536.</summary>
    public const int DeepFrames = 10_000;

    public const int MillionSamples = 1_000_000;

    /// <summary>The total of <see cref="Ordinary"/>: 50 ms of CPU.</summary>
    public const long OrdinaryTotal = 50_000_000;

    /// <summary>The sample records of <see cref="Ordinary"/> (5 samples of 10 ms, as two records).</summary>
    public const int OrdinarySamples = 2;

    /// <summary>The message of a gzip stream that stops early (<c>Gunzip.EnsureComplete</c>).</summary>
    public const string TruncatedGzip = "truncated gzip data (or bytes after it): the input does not end with the gzip trailer";

    /// <summary>What the bomb of tiny elements inflates to: just under the default decompressed limit.</summary>
    public const long TinyElementsBytes = 250L << 20;

    /// <summary>The start of the message of a profile whose model would outgrow the default limit.</summary>
    public static readonly string OverModelLimit =
        $"decoded profile exceeds the limit of {PprofLimits.DefaultModelBytesPerDecompressedByte * PprofLimits.DefaultMaxDecompressedBytes} bytes of memory (MaxModelBytes) at a sample.label";

    /// <summary>The message of a bomb refused under the default limit.</summary>
    public static readonly string OverDefaultLimit =
        $"decompressed profile exceeds the limit of {PprofLimits.DefaultMaxDecompressedBytes} bytes (MaxDecompressedBytes); refusing to inflate further";

    /// <summary>Names that break out of SVG or HTML markup, an attribute, or the SVG's script CDATA, if not escaped.</summary>
    public static readonly string[] HtmlNames =
    [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)> & 'quoted'",
        "]]></script><script>alert(3)</script><![CDATA[",
    ];

    /// <summary>
    /// How many distinct stacks the colliding-stacks case has: read in a second or two, while a table that keeps them
    /// all under one hash compares each new stack with every earlier one (2 billion comparisons of 384 bytes).
    /// </summary>
    public const int CollidingStacks = 1 << CollidingStackBlocks;

    private const int CollidingStackBlocks = 16;

    /// <summary>
    /// Invalid UTF-8 is decoded to U+FFFD, as Go's encoding/json writes it and as ranging over the string yields it
    /// in Go: for these sequences, one per byte. (A multi-byte sequence cut short becomes one U+FFFD in .NET, where
    /// Go yields one per byte.)
    /// </summary>
    public static readonly (string StandIn, byte[] Bytes, string Decoded)[] InvalidUtf8Names =
    [
        ("main.@@a", [.. "main."u8, 0xFF, 0xFE, (byte)'a'], "main.\uFFFD\uFFFDa"),
        ("main.@@b", [.. "main."u8, 0xC0, 0xAF, (byte)'b'], "main.\uFFFD\uFFFDb"), // an overlong '/'
        ("main.@@@c", [.. "main."u8, 0xED, 0xA0, 0x80, (byte)'c'], "main.\uFFFD\uFFFD\uFFFDc"), // a UTF-16 surrogate
    ];

    private static readonly ValueType[] CpuTypes = [new("samples", "count"), new("cpu", "nanoseconds")];

    private static readonly Dictionary<string, HostileProfile> ByName = Catalog().ToDictionary(p => p.Name, StringComparer.Ordinal);

    public static IEnumerable<HostileProfile> All => ByName.Values;

    public static HostileProfile Get(string name) => ByName[name];

    /// <summary>Every case's name (of one outcome), for a theory's cases.</summary>
    public static IEnumerable<string> Names(HostileOutcome? outcome = null) =>
        All.Where(p => outcome is null || p.Outcome == outcome).Select(p => p.Name);

    /// <summary>
    /// The SVG is well-formed XML whose text holds <paramref name="names"/> as they are, and its only script is its
    /// own: no name opened an element, an attribute or a CDATA section.
    /// </summary>
    public static void CheckSvgShowsNamesOnlyAsText(string svg, IReadOnlyList<string> names)
    {
        XDocument document = XDocument.Parse(svg);
        XNamespace svgNamespace = "http://www.w3.org/2000/svg";
        Expect.That(document.Descendants(svgNamespace + "script").Count() == 1, "the SVG has one script of its own in the SVG namespace");
        Expect.That(document.Descendants().Count(e => e.Name.LocalName == "script") == 1, "the SVG has no other script element");
        Expect.That(svg.IndexOf("<script", StringComparison.Ordinal) == svg.LastIndexOf("<script", StringComparison.Ordinal), "no '<script' appears in the SVG's text");
        // A frame's tooltip starts with its name on a line of its own.
        var shown = document.Descendants(svgNamespace + "title").Select(t => t.Value.Split('\n')[0]).ToHashSet(StringComparer.Ordinal);
        string? missing = names.FirstOrDefault(n => !shown.Contains(n));
        Expect.That(missing is null, $"the SVG does not show the name '{missing}' as a frame's text");
    }

    /// <summary>
    /// A CPU profile with three functions and two stacks: main.main → main.handle → main.work (3 samples, 30 ms)
    /// and main.main → main.handle (2 samples, 20 ms); <paramref name="names"/> renames the three functions.
    /// </summary>
    public static Profile Ordinary(params string[] names)
    {
        string[] functions = names.Length > 0 ? names : ["main.main", "main.handle", "main.work"];
        ProfileBuilder builder = CpuBuilder();
        int mapping = builder.AddMapping(new Mapping(1, 0x400000, 0x800000, 0, "/app/server", "", true, true, true, false));
        int[] locations = [.. functions.Select((name, i) => builder.AddLocation([new Line(builder.AddFunction(name, name, "main.go"), 10 + i, 0)], mapping))];
        builder.AddSample([locations[2], locations[1], locations[0]], [3, 30_000_000]);
        builder.AddSample([locations[1], locations[0]], [2, 20_000_000]);
        return builder.Build();
    }

    private static IEnumerable<HostileProfile> Catalog()
    {
        // ---- truncated and corrupt --------------------------------------------------------------------------
        yield return Refused("truncated gzip", TruncatedGzip, () =>
        {
            byte[] gzip = OrdinaryGzip();
            return (gzip[..(gzip.Length / 2)], OrdinaryPlain().Length);
        });
        yield return Refused("truncated protobuf", "runs past the end of the enclosing message", () =>
        {
            byte[] plain = OrdinaryPlain();
            return (plain[..^3], plain.Length); // the string table is written last: its last entry is cut
        });
        yield return Refused("corrupt deflate data", "corrupt gzip data after 0 decompressed bytes: invalid deflate data or checksum", () =>
        {
            byte[] gzip = OrdinaryGzip();
            gzip[10] = 0xFF; // the first deflate block's header: BTYPE 11 is reserved
            return (gzip, OrdinaryPlain().Length);
        });
        yield return Refused("text instead of protobuf", "unsupported wire type 7 at byte offset 1", () =>
        {
            // The legacy text format (debug=1): 'g' = 0x67 reads as field 12 with wire type 7, which does not exist.
            byte[] text = "goroutine profile: total 8\n1 @ 0x43a3d6 0x4067ef\n"u8.ToArray();
            return (Gzip(text), text.Length);
        });

        // ---- bombs ----------------------------------------------------------------------------------------
        yield return Refused("gzip bomb of zeros", OverDefaultLimit, () => (Members([], new byte[10 << 20], BombBytes), BombBytes));
        yield return Refused("gzip bomb of valid protobuf", OverDefaultLimit, () =>
        {
            // The ordinary profile, then 10 MiB members of the same sample over and over: concatenated gzip members
            // inflate to concatenated protobuf, which is one message with ever more samples.
            byte[] sample = LenField(2, Packed(1, 1), Packed(2, 1, 10_000_000));
            byte[] samples = new byte[(10 << 20) / sample.Length * sample.Length];
            for (int at = 0; at < samples.Length; at += sample.Length)
            {
                sample.CopyTo(samples, at);
            }

            return (Members(OrdinaryPlain(), samples, BombBytes), BombBytes);
        });
        yield return Refused("gzip bomb of tiny elements", OverModelLimit, () =>
        {
            // Under the decompressed limit, but each 2-byte empty label is a 36-byte entry in the model: 250 MiB of
            // them would take 4.5 GiB, 18 times the input.
            byte[] sample = LenField(2, Packed(1, 1), Packed(2, 1, 10_000_000), Concat([.. Enumerable.Repeat<byte[]>([0x1A, 0x00], 1000)]));
            byte[] samples = Concat([.. Enumerable.Repeat(sample, (10 << 20) / sample.Length)]);
            byte[] head = OrdinaryPlain();
            long plain = TinyElementsBytes / samples.Length * samples.Length + head.Length;
            return (Members(head, samples, TinyElementsBytes), plain);
        });

        // ---- sizes ----------------------------------------------------------------------------------------
        yield return Handled("huge string table", OrdinarySamples, OrdinaryTotal, [], () =>
        {
            // A million unused strings and one of 16 MiB: what they cost is decoding them, nothing else.
            byte[] plain = Concat(
                OrdinaryPlain(),
                Concat([.. Enumerable.Range(0, 1_000_000).Select(i => String(i.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)))]),
                LenField(6, Encoding.ASCII.GetBytes(new string('x', 16 << 20))));
            return (Gzip(plain), plain.Length);
        });
        yield return Handled("deep stack of 10 000 distinct frames", 1, 10_000_000, ["main.f0", "main.f9999"], () =>
        {
            ProfileBuilder builder = CpuBuilder();
            int[] stack = [.. Enumerable.Range(0, DeepFrames).Select(i => builder.AddLocation([new Line(builder.AddFunction($"main.f{i}"), i, 0)])).Reverse()];
            builder.AddSample(stack, [1, 10_000_000]);
            return Encoded(builder.Build());
        });
        yield return Handled("recursion 10 000 deep", 2, 30_000_000, ["main.main", "main.recurse"], () =>
        {
            ProfileBuilder builder = CpuBuilder();
            int main = builder.AddLocation([new Line(builder.AddFunction("main.main"), 1, 0)]);
            int recurse = builder.AddLocation([new Line(builder.AddFunction("main.recurse"), 2, 0)]);
            builder.AddSample([.. Enumerable.Repeat(recurse, DeepFrames), main], [1, 10_000_000]);
            builder.AddSample([.. Enumerable.Repeat(recurse, DeepFrames / 2), main], [2, 20_000_000]);
            return Encoded(builder.Build());
        });
        yield return Handled("one million samples", MillionSamples, MillionSamplesTotal, ["main.main", "main.f63"], () =>
        {
            // A thousand distinct stacks over 64 functions, a million sample records with values 1..10 ms.
            ProfileBuilder builder = CpuBuilder();
            int main = builder.AddLocation([new Line(builder.AddFunction("main.main"), 1, 0)]);
            int[] functions = [.. Enumerable.Range(0, 64).Select(i => builder.AddLocation([new Line(builder.AddFunction($"main.f{i}"), i, 0)]))];
            var random = new Random(7);
            int[][] stacks = [.. Enumerable.Range(0, 1000).Select(s => (int[])[.. Enumerable.Range(0, 1 + (s % 8)).Select(_ => functions[random.Next(64)]), main])];
            stacks[0][0] = functions[63];
            for (int i = 0; i < MillionSamples; i++)
            {
                builder.AddSample(stacks[i % stacks.Length], [1, MillionSampleValue(i)]);
            }

            return Encoded(builder.Build());
        });

        // ---- ids --------------------------------------------------------------------------------------------
        yield return Refused("location id 0", "location with the reserved id 0", () => Appended(LenField(4, VarintField(1, 0), LenField(4, VarintField(1, 1)))));
        yield return Refused("function id 0", "function with the reserved id 0", () => Appended(LenField(5, VarintField(1, 0), VarintField(2, 1))));
        yield return Refused("mapping id 0", "mapping with the reserved id 0", () => Appended(LenField(3, VarintField(1, 0), VarintField(5, 1))));
        yield return Refused("sample referring to a missing location", "sample 2 refers to missing location id 9223372036854775808", () =>
            Appended(LenField(2, Packed(1, long.MinValue), Packed(2, 1, 1))));
        yield return Refused("line referring to a missing function", "line refers to missing function id 9223372036854775808", () =>
            Appended(LenField(4, VarintField(1, 99), LenField(4, VarintField(1, long.MinValue)))));
        yield return Refused("location referring to a missing mapping", "location refers to missing mapping id 4611686018427387904", () =>
            Appended(LenField(4, VarintField(1, 99), VarintField(2, 1L << 62))));
        yield return Refused("string index past the table", "function.name string index 1099511627776 out of range", () =>
            Appended(LenField(5, VarintField(1, 99), VarintField(2, 1L << 40))));
        yield return Refused("samples without sample types", "the profile has 1 samples but no sample types", () =>
        {
            byte[] plain = Concat(
                Strings("", "main.main"),
                LenField(5, VarintField(1, 1), VarintField(2, 1)),
                LenField(4, VarintField(1, 1), LenField(4, VarintField(1, 1))),
                LenField(2, Packed(1, 1)));
            return (plain, plain.Length);
        });
        yield return Handled("ids near 2^63 and 2^64", 2, 20_000_000, ["main.f0", "main.f1"], () =>
            RawIds(ulong.MaxValue, [1UL << 63, ulong.MaxValue - 1], [(1UL << 63) + 5, ulong.MaxValue]));
        yield return Handled("ids that collide in a hash table", CollidingIds, CollidingIds * 10_000_000L, ["main.f0", $"main.f{CollidingIds - 1}"], () =>
        {
            // ulong.GetHashCode folds the halves with XOR: k << 32 | k hashes to 0 for every k, and a table keyed
            // by such ids is a list unless its hash is one the profile's author cannot predict.
            ulong[] ids = [.. Enumerable.Range(1, CollidingIds).Select(k => ((ulong)k << 32) | (uint)k)];
            return RawIds(1UL << 32 | 1, ids, ids);
        });

        yield return Handled("stacks that collide in the stack table", CollidingStacks, CollidingStacks * 1_000_000L, ["main.a", "main.b", "main.c", "main.one"], CollidingStacksProfile);

        // ---- values ---------------------------------------------------------------------------------------
        yield return Handled("negative values", 2, -20_000_000, ["main.main", "main.work"], () =>
        {
            // What go tool pprof -base writes: a difference of two profiles.
            ProfileBuilder builder = CpuBuilder();
            int main = builder.AddLocation([new Line(builder.AddFunction("main.main"), 1, 0)]);
            int work = builder.AddLocation([new Line(builder.AddFunction("main.work"), 2, 0)]);
            builder.AddSample([work, main], [-3, -30_000_000]);
            builder.AddSample([main], [1, 10_000_000]);
            return Encoded(builder.Build());
        });
        yield return Handled("extreme values", 3, 4, ["main.max", "main.min"], () =>
        {
            // int64's ends: sums wrap as Go's do, and |long.MinValue| does not exist.
            ProfileBuilder builder = CpuBuilder();
            int main = builder.AddLocation([new Line(builder.AddFunction("main.main"), 1, 0)]);
            int max = builder.AddLocation([new Line(builder.AddFunction("main.max"), 2, 0)]);
            int min = builder.AddLocation([new Line(builder.AddFunction("main.min"), 3, 0)]);
            builder.AddSample([max, main], [long.MaxValue, long.MaxValue]);
            builder.AddSample([min, main], [long.MinValue, long.MinValue]);
            builder.AddSample([main], [5, 5]);
            return Encoded(builder.Build());
        });

        // ---- text -----------------------------------------------------------------------------------------
        yield return Handled("HTML and script in names", OrdinarySamples, OrdinaryTotal, HtmlNames, () => Encoded(Ordinary(HtmlNames))) with { HostileText = true };
        yield return Handled("invalid UTF-8 in names", OrdinarySamples, OrdinaryTotal, InvalidUtf8Names.Select(n => n.Decoded).ToArray(), () =>
        {
            // Written with ASCII stand-ins of the same length, then the stand-ins' bytes are replaced: the lengths
            // around them stay right.
            byte[] plain = ProfileWriter.Encode(Ordinary([.. InvalidUtf8Names.Select(n => n.StandIn)]));
            foreach ((string standIn, byte[] bytes, _) in InvalidUtf8Names)
            {
                byte[] find = Encoding.ASCII.GetBytes(standIn);
                int at = plain.AsSpan().IndexOf(find);
                bytes.CopyTo(plain, at);
                if (plain.AsSpan(at + 1).IndexOf(find) >= 0)
                {
                    throw new InvalidOperationException($"stand-in {standIn} occurs twice");
                }
            }

            return (Gzip(plain), plain.Length);
        }) with { HostileText = true };
    }

    /// <summary>
    /// How many locations and functions the colliding-ids case has: read in under a second, while quadratic work on
    /// them (a dictionary whose keys all hash alike) took 24 s for half as many, and grows fourfold with each doubling.
    /// </summary>
    public const int CollidingIds = 100_000;

    private static long MillionSampleValue(int i) => (1 + (i % 10)) * 1_000_000L;

    private static long MillionSamplesTotal => Enumerable.Range(0, MillionSamples).Sum(i => MillionSampleValue(i));

    private static HostileProfile Refused(string name, string reason, Func<(byte[], long)> build) =>
        new(name, HostileOutcome.Refused, reason, 0, 0, [], build);

    private static HostileProfile Handled(string name, int samples, long total, string[] names, Func<(byte[], long)> build) =>
        new(name, HostileOutcome.Handled, null, samples, total, names, build);

    private static ProfileBuilder CpuBuilder() =>
        new(CpuTypes) { PeriodType = new ValueType("cpu", "nanoseconds"), Period = 10_000_000, DurationNanos = 1_000_000_000, TimeNanos = 1_700_000_000_000_000_000 };

    private static byte[] OrdinaryPlain() => ProfileWriter.Encode(Ordinary());

    private static byte[] OrdinaryGzip() => Gzip(OrdinaryPlain());

    /// <summary>The ordinary profile, gzip-compressed as agents send profiles.</summary>
    public static byte[] OrdinaryBytes => OrdinaryGzip();

    /// <summary>The ordinary profile with one more field after it (plain protobuf: its offsets are easy to read).</summary>
    private static (byte[], long) Appended(byte[] field)
    {
        byte[] plain = Concat(OrdinaryPlain(), field);
        return (plain, plain.Length);
    }

    private static (byte[], long) Encoded(Profile profile)
    {
        byte[] plain = ProfileWriter.Encode(profile);
        return (Gzip(plain), plain.Length);
    }

    /// <summary>
    /// A gzip member of <paramref name="head"/>, then as many members of <paramref name="body"/> (compressed once)
    /// as fit in <paramref name="total"/> inflated bytes: a bomb built in a fraction of a second.
    /// </summary>
    private static byte[] Members(byte[] head, byte[] body, long total)
    {
        byte[] member = Gzip(body, CompressionLevel.SmallestSize);
        int count = (int)(total / body.Length);
        IEnumerable<byte[]> members = Enumerable.Repeat(member, count);
        return Concat([.. head.Length > 0 ? members.Prepend(Gzip(head)) : members]);
    }

    /// <summary>
    /// 2^16 distinct stacks that the stack table's original hash (rotl(h ^ word, 29) * odd constant, per 8-byte word)
    /// maps to one value, whatever its seed: flipping bit 34 of one word flips only bit 63 of the state after it (a
    /// rotation by 29 carries bit 34 to bit 63, and multiplying leaves a difference in the top bit alone), and
    /// flipping bit 63 of the next word cancels it. A stack is 16 blocks of 24 bytes, each block flipped or not:
    /// <code>
    /// 81 81 81 81 02|06   81×9 01   01|81   81×7 01
    /// a 5-byte id A0|A1   id B      id 1 then C (8 bytes) | id D (9 bytes: the flipped byte continues into C's)
    /// </code>
    /// A0 and A1 are both main.a, and D is a location with the lines of 1 and C (main.one inlined into main.c): every
    /// stack shows the same 64 frames, so the flame graph is one chain and only the decoder's table is hit.
    /// </summary>
    private static (byte[], long) CollidingStacksProfile()
    {
        byte[] block = [0x81, 0x81, 0x81, 0x81, 0x02, .. Enumerable.Repeat((byte)0x81, 9), 0x01, 0x01, .. Enumerable.Repeat((byte)0x81, 7), 0x01];
        ulong VarintAt(int at, int length) => Enumerable.Range(0, length).Aggregate(0UL, (id, i) => id | ((ulong)(block[at + i] & 0x7F) << (7 * i)));
        ulong a0 = VarintAt(0, 5), a1 = a0 | (0x04UL << 28), b = VarintAt(5, 10), c = VarintAt(16, 8), d = 1 | (c << 7);

        // string_table: 0 "", 1 samples, 2 count, 3 cpu, 4 nanoseconds, 5 main.a, 6 main.b, 7 main.c, 8 main.one
        var parts = new List<byte[]>
        {
            Strings("", "samples", "count", "cpu", "nanoseconds", "main.a", "main.b", "main.c", "main.one"),
            LenField(1, VarintField(1, 1), VarintField(2, 2)),
            LenField(1, VarintField(1, 3), VarintField(2, 4)),
        };
        for (int f = 1; f <= 4; f++)
        {
            parts.Add(LenField(5, VarintField(1, f), VarintField(2, 4 + f)));
        }

        byte[] Line(int function) => LenField(4, VarintField(1, function));
        parts.Add(LenField(4, VarintField(1, (long)a0), Line(1)));
        parts.Add(LenField(4, VarintField(1, (long)a1), Line(1)));
        parts.Add(LenField(4, VarintField(1, (long)b), Line(2)));
        parts.Add(LenField(4, VarintField(1, 1), Line(4)));
        parts.Add(LenField(4, VarintField(1, (long)c), Line(3)));
        parts.Add(LenField(4, VarintField(1, (long)d), Line(4), Line(3))); // the innermost line first: main.one in main.c

        byte[] stack = new byte[CollidingStackBlocks * block.Length];
        byte[] values = Packed(2, 1, 1_000_000);
        for (int variant = 0; variant < CollidingStacks; variant++)
        {
            for (int i = 0; i < CollidingStackBlocks; i++)
            {
                bool flipped = ((variant >> i) & 1) != 0;
                block.CopyTo(stack, i * block.Length);
                stack[(i * block.Length) + 4] = (byte)(flipped ? 0x06 : 0x02);
                stack[(i * block.Length) + 15] = (byte)(flipped ? 0x81 : 0x01);
            }

            parts.Add(LenField(2, LenField(1, stack), values));
        }

        byte[] plain = Concat([.. parts]);
        return (Gzip(plain), plain.Length);
    }

    /// <summary>
    /// A CPU profile with the given ids, by hand (our writer renumbers ids 1..N): one mapping, function i at
    /// location i, and one sample per location with 10 ms, the location under nothing.
    /// </summary>
    private static (byte[], long) RawIds(ulong mappingId, ulong[] functionIds, ulong[] locationIds)
    {
        // string_table: 0 "", 1 samples, 2 count, 3 cpu, 4 nanoseconds, 5 /app/server, 6.. main.f0 …
        var parts = new List<byte[]>
        {
            Strings(["", "samples", "count", "cpu", "nanoseconds", "/app/server", .. functionIds.Select((_, i) => $"main.f{i}")]),
            LenField(1, VarintField(1, 1), VarintField(2, 2)),
            LenField(1, VarintField(1, 3), VarintField(2, 4)),
            LenField(3, VarintField(1, (long)mappingId), VarintField(5, 5)),
        };
        for (int i = 0; i < functionIds.Length; i++)
        {
            parts.Add(LenField(5, VarintField(1, (long)functionIds[i]), VarintField(2, 6 + i)));
            parts.Add(LenField(4, VarintField(1, (long)locationIds[i]), VarintField(2, (long)mappingId), LenField(4, VarintField(1, (long)functionIds[i]))));
            parts.Add(LenField(2, Packed(1, (long)locationIds[i]), Packed(2, 1, 10_000_000)));
        }

        byte[] plain = Concat([.. parts]);
        return (Gzip(plain), plain.Length);
    }
}

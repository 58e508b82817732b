using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;
using Xunit.Abstractions;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// A time-bounded fuzzer: seeded mutations of every real profile in testdata/ — of its protobuf structure (fields
/// duplicated, dropped, moved or transplanted; varints set to extremes or encoded overlong; length prefixes, wire
/// types and field numbers changed; strings replaced) and of its bytes (bit flips, insertions, deletions, splices,
/// truncation), then gzip-compressed half the time (and that damaged now and then) — fed to
/// <see cref="ProfileReader"/> and, when they decode, through every analysis and export. The only outcomes allowed
/// are success and a one-line <see cref="PprofFormatException"/>; any other exception, an iteration that hangs or
/// takes too long, or allocation out of proportion to the input fails the test with the seed and iteration that
/// rebuild the input (and a copy of it in the temporary directory).
/// </summary>
/// <remarks>
/// CI runs it for <see cref="DefaultSeconds"/>; release checks run it longer, with other seeds:
/// <c>FLAMEWRIGHT_FUZZ_SECONDS=600 FLAMEWRIGHT_FUZZ_SEED=2 dotnet test test/Flamewright.Pprof.Tests --filter Fuzz</c>.
/// <c>FLAMEWRIGHT_FUZZ_ITERATION=N</c> replays one iteration of a seed.
/// </remarks>
public sealed partial class MutationFuzzTests(ITestOutputHelper output)
{
    /// <summary>The budget in CI: long enough for tens of thousands of inputs, short enough for every run.</summary>
    public const int DefaultSeconds = 20;

    /// <summary>The most seconds <c>FLAMEWRIGHT_FUZZ_SECONDS</c> may ask for: the test's timeout must stay above it.</summary>
    public const int MaxSeconds = 3600;

    /// <summary>The seed unless <c>FLAMEWRIGHT_FUZZ_SEED</c> says otherwise: CI tries the same inputs every run.</summary>
    public const int DefaultSeed = 1;

    /// <summary>The test's timeout: the largest budget, plus time to build, wind down and report.</summary>
    private const int Timeout = (MaxSeconds + 300) * 1000;

    /// <summary>
    /// An iteration that has not finished after this long is a hang. Inputs are a few KiB; an iteration takes well
    /// under a millisecond, and a few milliseconds when the machine is loaded.
    /// </summary>
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An iteration that finishes but took this long is a failure too: work out of proportion to a few KiB. The
    /// slowest of 270 000 took 0.4 s; the rest is room for the collections that other tests' bombs cause in this process.
    /// </summary>
    private static readonly TimeSpan SlowBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What decoding may allocate per byte of protobuf: the inflate buffer (about 2 per byte) and the model, whose
    /// costliest element (an empty mapping, 2 bytes) takes 92 bytes and whose arrays double as they grow.
    /// </summary>
    private const int DecodeAllocationPerByte = 160;

    /// <summary>Allocation any decode may make whatever the input: the pre-sized tables of a small profile, about 100 KiB.</summary>
    private const long DecodeAllocationSlack = 1 << 20;

    /// <summary>
    /// What the analyses and exports of a decoded input may allocate together. The real profiles' take a few MiB; the
    /// analysis limits (65 536 frames a stack) let a mutated one take more, but not this much from a few KiB.
    /// </summary>
    private const long AnalysisAllocationBound = 512L << 20;

    /// <summary>Deflate's largest expansion: what damaged gzip data can inflate to at most.</summary>
    private const int MaxDeflateRatio = 1032;

    private static readonly Lazy<(string Name, byte[] Plain)[]> Corpus = new(() =>
        [.. TestData.AllProfiles().Select(p => (p.Name, TestData.Plain(p.Name)))]);

    [Fact(Timeout = Timeout)]
    public Task Fuzz_mutated_real_profiles_decode_or_are_refused_and_nothing_else_for_the_time_budget() => Spec.Run(() =>
    {
        int seconds = Setting("FLAMEWRIGHT_FUZZ_SECONDS", DefaultSeconds);
        int seed = Setting("FLAMEWRIGHT_FUZZ_SEED", DefaultSeed);
        Assert.InRange(seconds, 1, MaxSeconds);
        if (Environment.GetEnvironmentVariable("FLAMEWRIGHT_FUZZ_ITERATION") is { Length: > 0 } replay)
        {
            int iteration = int.Parse(replay, CultureInfo.InvariantCulture);
            Input input = Build(seed, iteration);
            output.WriteLine($"seed {seed} iteration {iteration}: {input.Description}, {input.Bytes.Length} bytes");
            Outcome outcome = Check(input, new Stats());
            output.WriteLine($"outcome: {outcome}");
            return;
        }

        var run = new Run(seed, TimeSpan.FromSeconds(seconds));
        var worker = new Thread(run.Loop, 16 << 20) { IsBackground = true, Name = "fuzz" };
        var clock = Stopwatch.StartNew();
        worker.Start();
        int lastIteration = -1;
        var lastProgress = Stopwatch.StartNew();
        while (!worker.Join(250))
        {
            int iteration = Volatile.Read(ref run.Iteration);
            if (iteration != lastIteration)
            {
                (lastIteration, lastProgress) = (iteration, Stopwatch.StartNew());
            }
            else if (lastProgress.Elapsed > HangBound)
            {
                Input stuck = Build(seed, iteration);
                Assert.Fail($"seed {seed} iteration {iteration}: no result after {HangBound.TotalSeconds} s, a hang ({stuck.Description}); {Reproduce(seed, iteration, stuck)}");
            }
        }

        clock.Stop();
        Stats stats = run.Stats;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {stats.Iterations:N0} iterations in {clock.Elapsed.TotalSeconds:F1} s ({stats.Iterations / clock.Elapsed.TotalSeconds:F0}/s)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"decoded and analysed {stats.Analysed:N0}, refused by analysis {stats.RefusedByAnalysis:N0}, refused by the decoder {stats.Refused:N0}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"slowest iteration {stats.Slowest.TotalMilliseconds:F0} ms; most allocated by one decode: {stats.MostDecodeAllocated:N0} bytes (of at most {stats.MostDecodeInput:N0} bytes of protobuf)"));
        output.WriteLine("most frequent reasons for refusal (numbers elided):");
        foreach ((string reason, int count) in stats.Reasons.OrderByDescending(r => r.Value).Take(15).Select(r => (r.Key, r.Value)))
        {
            output.WriteLine($"  {count,7}  {reason}");
        }

        if (run.Failure is { } failure)
        {
            Assert.Fail(failure);
        }

        // Proof that the fuzzer fuzzed: it ran, and its inputs reach both outcomes.
        Assert.True(stats.Iterations >= 100, $"only {stats.Iterations} iterations");
        Assert.True(stats.Analysed > 0 && stats.Refused > 0, "every input had the same outcome");
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task The_fuzzers_field_tree_writes_every_real_profile_back_byte_for_byte(string profile) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);

        List<Field> fields = Field.ParseMessage(plain, 0)!;

        Assert.Equal(plain, Field.Write(fields));
        Assert.Contains(fields, f => f.Children is { Count: > 0 }); // nested messages are fields too
    });

    public static TheoryData<string> Profiles => ProfileCases.EveryProfile();

    /// <summary>One fuzz input: the bytes, how they were made, and how far they could inflate.</summary>
    private sealed record Input(byte[] Bytes, string Description, long InflatedBound);

    private enum Outcome
    {
        Analysed,
        RefusedByAnalysis,
        Refused,
    }

    private sealed class Stats
    {
        public int Iterations;
        public int Analysed;
        public int RefusedByAnalysis;
        public int Refused;
        public TimeSpan Slowest;
        public long MostDecodeAllocated;
        public long MostDecodeInput;
        public Dictionary<string, int> Reasons { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The loop, on a thread of its own so that the test can tell a hang from slow progress.</summary>
    private sealed class Run(int seed, TimeSpan budget)
    {
        public int Iteration;

        public Stats Stats { get; } = new();

        public string? Failure { get; private set; }

        public void Loop()
        {
            var clock = Stopwatch.StartNew();
            for (int iteration = 0; clock.Elapsed < budget; iteration++)
            {
                Volatile.Write(ref Iteration, iteration);
                Input? input = null;
                try
                {
                    input = Build(seed, iteration);
                    var time = Stopwatch.StartNew();
                    Check(input, Stats);
                    if (time.Elapsed > SlowBound)
                    {
                        throw new FuzzFailure($"took {time.Elapsed.TotalSeconds:F1} s, more than {SlowBound.TotalSeconds} s");
                    }

                    Stats.Slowest = time.Elapsed > Stats.Slowest ? time.Elapsed : Stats.Slowest;
                    Stats.Iterations++;
                }
                catch (Exception e)
                {
                    Failure = input is null
                        ? $"seed {seed} iteration {iteration}: building the input failed: {e}"
                        : $"seed {seed} iteration {iteration} ({input.Description}): {(e is FuzzFailure ? e.Message : e.ToString())}\n{Reproduce(seed, iteration, input)}";
                    return;
                }
            }
        }
    }

    /// <summary>A broken rule, as opposed to an exception the engine threw.</summary>
    private sealed class FuzzFailure(string message) : Exception(message);

    private static Outcome Check(Input input, Stats stats)
    {
        Profile? profile = null;
        PprofFormatException? refused = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            profile = ProfileReader.Read(input.Bytes);
        }
        catch (PprofFormatException e)
        {
            refused = e;
        }
        catch (Exception e)
        {
            throw new FuzzFailure($"decoding threw {e.GetType().Name} instead of PprofFormatException: {e}");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = (DecodeAllocationPerByte * input.InflatedBound) + DecodeAllocationSlack;
        if (allocated > bound)
        {
            throw new FuzzFailure($"decoding allocated {allocated:N0} bytes for at most {input.InflatedBound:N0} of protobuf, more than {bound:N0}");
        }

        if (allocated > stats.MostDecodeAllocated)
        {
            (stats.MostDecodeAllocated, stats.MostDecodeInput) = (allocated, input.InflatedBound);
        }

        if (refused is not null)
        {
            Refusal(refused, stats);
            stats.Refused++;
            return Outcome.Refused;
        }

        before = GC.GetAllocatedBytesForCurrentThread();
        Outcome outcome;
        try
        {
            FlameTree tree = FlameTreeBuilder.Build(profile!);
            TopText.Write(TopTable.Build(profile!), TextWriter.Null);
            FoldedStacks.Write(tree, TextWriter.Null);
            SvgFlameGraph.Write(tree, TextWriter.Null, "fuzz");
            JsonTree.Write(tree, Stream.Null);
            Speedscope.Write(tree, Stream.Null, "fuzz");
            SkyWalkingTree.Write(tree, Stream.Null);
            ProfileWriter.Encode(profile!);
            stats.Analysed++;
            outcome = Outcome.Analysed;
        }
        catch (PprofFormatException e)
        {
            Refusal(e, stats);
            stats.RefusedByAnalysis++;
            outcome = Outcome.RefusedByAnalysis;
        }
        catch (Exception e)
        {
            throw new FuzzFailure($"analysis threw {e.GetType().Name} instead of PprofFormatException: {e}");
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AnalysisAllocationBound)
        {
            throw new FuzzFailure($"analysis allocated {allocated:N0} bytes, more than {AnalysisAllocationBound:N0}");
        }

        return outcome;
    }

    private static void Refusal(PprofFormatException e, Stats stats)
    {
        if (string.IsNullOrWhiteSpace(e.Message) || e.Message.Contains('\n') || e.Message.Contains('\r'))
        {
            throw new FuzzFailure($"refused without a one-line reason: \"{e.Message}\"");
        }

        string reason = Digits().Replace(e.Message, "N");
        stats.Reasons[reason] = stats.Reasons.GetValueOrDefault(reason) + 1;
    }

    private static string Reproduce(int seed, int iteration, Input input)
    {
        string path = Path.Combine(Path.GetTempPath(), $"flamewright-fuzz-{seed}-{iteration}.pb");
        File.WriteAllBytes(path, input.Bytes);
        return $"input saved as {path}; rebuild it with FLAMEWRIGHT_FUZZ_SEED={seed} FLAMEWRIGHT_FUZZ_ITERATION={iteration} dotnet test test/Flamewright.Pprof.Tests --filter Fuzz";
    }

    private static int Setting(string name, int defaultValue) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : defaultValue;

    // ---- building an input ----------------------------------------------------------------------------------

    /// <summary>The input of one iteration: a function of the seed and the iteration only.</summary>
    private static Input Build(int seed, int iteration)
    {
        var random = new Random(unchecked((seed * 1_000_003) + iteration));
        (string name, byte[] original) = Corpus.Value[random.Next(Corpus.Value.Length)];
        var applied = new List<string> { name };
        List<Field> fields = Field.ParseMessage(original, 0)!;
        int structural = random.Next(4) == 0 ? 0 : random.Next(1, 4);
        for (int i = 0; i < structural; i++)
        {
            applied.Add(MutateStructure(fields, random));
        }

        byte[] plain = Field.Write(fields);
        int bytewise = random.Next(3) == 0 ? random.Next(1, 3) : 0;
        for (int i = 0; i < bytewise || (structural == 0 && i == 0); i++)
        {
            (plain, string what) = MutateBytes(plain, random);
            applied.Add(what);
        }

        if (random.Next(2) == 0)
        {
            return new Input(plain, string.Join(", ", applied) + ", plain", plain.Length);
        }

        byte[] gzip = Gzip(plain, (CompressionLevel)random.Next(3));
        if (random.Next(8) != 0)
        {
            return new Input(gzip, string.Join(", ", applied) + ", gzip", plain.Length);
        }

        (byte[] damaged, string damage) = MutateBytes(gzip, random);
        return new Input(damaged, string.Join(", ", applied) + $", gzip then {damage}", Math.Min((long)damaged.Length * MaxDeflateRatio, PprofLimits.DefaultMaxDecompressedBytes));
    }

    private static readonly ulong[] ExtremeVarints =
    [
        0, 1, 2, 127, 128, 255, 1UL << 31, (1UL << 31) - 1, 1UL << 32, uint.MaxValue, 1UL << 62, 1UL << 63, ulong.MaxValue, ulong.MaxValue - 1,
    ];

    private static string MutateStructure(List<Field> root, Random random)
    {
        List<(List<Field> Parent, int Index)> all = [];
        Field.Collect(root, all);
        if (all.Count == 0)
        {
            root.Add(new Field { Number = 6, Wire = 2, Kind = 2, Bytes = [] });
            return "string added to an empty message";
        }

        (List<Field> parent, int index) = all[random.Next(all.Count)];
        Field field = parent[index];
        string where = $"field {field.Number} at {index}";
        switch (random.Next(11))
        {
            case 0:
                parent.Insert(random.Next(parent.Count + 1), field.Clone());
                return $"{where} duplicated";
            case 1:
                parent.RemoveAt(index);
                return $"{where} removed";
            case 2:
                parent.RemoveAt(index);
                int to = random.Next(parent.Count + 1);
                parent.Insert(to, field);
                return $"{where} moved to {to}";
            case 3 when field.Kind == 0:
                ulong extreme = random.Next(3) == 0 ? (ulong)random.NextInt64() : ExtremeVarints[random.Next(ExtremeVarints.Length)];
                field.Value = random.Next(4) == 0 ? field.Value + (ulong)random.Next(-2, 3) : extreme;
                return $"{where} set to {field.Value}";
            case 4:
                field.Overlong = random.Next(1, 11);
                return $"{where} encoded {field.Overlong} bytes overlong";
            case 5 when field.Kind == 2:
                field.LengthDelta = random.Next(4) switch { 0 => random.Next(-3, 4), 1 => random.Next(-1000, 1000), 2 => int.MaxValue / 2, _ => -field.PayloadLength() - random.Next(1, 3) };
                return $"{where} length prefix off by {field.LengthDelta}";
            case 6:
                field.Wire = random.Next(8);
                return $"{where} wire type {field.Wire}";
            case 7:
                field.Number = random.Next(4) switch { 0 => 0, 1 => (1 << 29) - 1, _ => random.Next(1, 20) };
                return $"{where} renumbered {field.Number}";
            case 8 when field.Kind == 2:
                (field.Bytes, string text) = Payload(random);
                field.Children = null;
                return $"{where} payload {text}";
            case 9:
                (List<Field> donor, int donorIndex) = all[random.Next(all.Count)];
                parent.Insert(random.Next(parent.Count + 1), donor[donorIndex].Clone());
                return $"field {donor[donorIndex].Number} transplanted next to {where}";
            default:
                // Children of a message flattened into its parent, or a message's payload kept as raw bytes.
                if (field.Children is { Count: > 0 } children && random.Next(2) == 0)
                {
                    parent.InsertRange(index + 1, children.Select(c => c.Clone()));
                    return $"{where} children copied up";
                }

                return $"{where} kept as is";
        }
    }

    private static (byte[] Bytes, string What) Payload(Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                return ([], "empty");
            case 1:
                return ([0xFF, 0xFE, 0xC0, 0xAF, 0xED, 0xA0, 0x80, .. "x"u8], "invalid UTF-8");
            case 2:
                return (Encoding.UTF8.GetBytes("<script>alert(1)</script>\n\"]]>&"), "HTML");
            case 3:
                return (Encoding.UTF8.GetBytes(new string('x', random.Next(1000, 100_000))), "long text");
            case 4:
                byte[] ids = new byte[random.Next(1, 2000)];
                for (int i = 0; i < ids.Length; i++)
                {
                    ids[i] = (byte)random.Next(1, 128);
                }

                return (ids, $"{ids.Length} one-byte varints");
            default:
                byte[] noise = new byte[random.Next(1, 64)];
                random.NextBytes(noise);
                return (noise, "random bytes");
        }
    }

    private static (byte[] Bytes, string What) MutateBytes(byte[] input, Random random)
    {
        if (input.Length == 0)
        {
            return ([(byte)random.Next(256)], "a byte added to nothing");
        }

        var data = new List<byte>(input);
        int at = random.Next(data.Count);
        switch (random.Next(5))
        {
            case 0:
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips; i++)
                {
                    data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                }

                return ([.. data], $"{flips} bits flipped");
            case 1:
                byte[] inserted = new byte[random.Next(1, 17)];
                random.NextBytes(inserted);
                data.InsertRange(at, inserted);
                return ([.. data], $"{inserted.Length} random bytes inserted at {at}");
            case 2:
                int removed = Math.Min(random.Next(1, 65), data.Count - at);
                data.RemoveRange(at, removed);
                return ([.. data], $"{removed} bytes removed at {at}");
            case 3:
                int length = Math.Min(random.Next(1, 257), data.Count - at);
                int to = random.Next(data.Count + 1);
                data.InsertRange(to, data.GetRange(at, length));
                return ([.. data], $"{length} bytes from {at} copied to {to}");
            default:
                return (input[..at], $"truncated at {at}");
        }
    }

    private static byte[] Gzip(byte[] data, CompressionLevel level)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, level, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return compressed.ToArray();
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    /// <summary>
    /// A protobuf field as the fuzzer sees it: its tag, and its content as a varint, fixed bytes, raw bytes or the
    /// fields of a nested message (when the payload parses as one). Written back unchanged, a parsed message is
    /// the same bytes; mutations change the tag, the content, or how the varints and the length are encoded.
    /// </summary>
    private sealed class Field
    {
        public int Number;

        /// <summary>The wire type written in the tag.</summary>
        public int Wire;

        /// <summary>How the content is written: 0 varint, 1 fixed 8 bytes, 2 length-delimited, 5 fixed 4 bytes.</summary>
        public int Kind;

        public ulong Value;

        public byte[] Bytes = [];

        public List<Field>? Children;

        /// <summary>Bytes of padding (0x80 … 0x00) added to each varint of the field.</summary>
        public int Overlong;

        /// <summary>Added to the length written before the payload.</summary>
        public int LengthDelta;

        /// <summary>The fields of <paramref name="data"/>, or null when it is not a message (payloads nest up to 6 deep).</summary>
        public static List<Field>? ParseMessage(ReadOnlySpan<byte> data, int depth)
        {
            var fields = new List<Field>();
            int position = 0;
            while (position < data.Length)
            {
                if (!TryVarint(data, ref position, out ulong tag) || tag >> 3 is 0 or > (1 << 29) - 1)
                {
                    return null;
                }

                var field = new Field { Number = (int)(tag >> 3), Wire = (int)(tag & 7), Kind = (int)(tag & 7) };
                switch (field.Kind)
                {
                    case 0:
                        if (!TryVarint(data, ref position, out field.Value))
                        {
                            return null;
                        }

                        break;
                    case 1 or 5:
                        int size = field.Kind == 1 ? 8 : 4;
                        if (data.Length - position < size)
                        {
                            return null;
                        }

                        field.Bytes = data.Slice(position, size).ToArray();
                        position += size;
                        break;
                    case 2:
                        if (!TryVarint(data, ref position, out ulong length) || length > (ulong)(data.Length - position))
                        {
                            return null;
                        }

                        ReadOnlySpan<byte> payload = data.Slice(position, (int)length);
                        position += (int)length;
                        field.Children = depth < 6 && payload.Length > 0 ? ParseMessage(payload, depth + 1) : null;
                        field.Bytes = field.Children is null ? payload.ToArray() : [];
                        break;
                    default:
                        return null;
                }

                fields.Add(field);
            }

            return fields;
        }

        /// <summary>Every field, nested ones too, with the list that holds it.</summary>
        public static void Collect(List<Field> fields, List<(List<Field>, int)> into)
        {
            for (int i = 0; i < fields.Count; i++)
            {
                into.Add((fields, i));
                if (fields[i].Children is { } children)
                {
                    Collect(children, into);
                }
            }
        }

        public static byte[] Write(List<Field> fields)
        {
            var output = new MemoryStream();
            foreach (Field field in fields)
            {
                field.WriteTo(output);
            }

            return output.ToArray();
        }

        public int PayloadLength() => Children is null ? Bytes.Length : Write(Children).Length;

        public Field Clone() => new()
        {
            Number = Number, Wire = Wire, Kind = Kind, Value = Value, Bytes = Bytes, Overlong = Overlong, LengthDelta = LengthDelta,
            Children = Children?.Select(c => c.Clone()).ToList(),
        };

        private void WriteTo(MemoryStream output)
        {
            WriteVarint(output, ((ulong)(uint)Number << 3) | (uint)(Wire & 7));
            switch (Kind)
            {
                case 0:
                    WriteVarint(output, Value);
                    break;
                case 2:
                    byte[] payload = Children is null ? Bytes : Write(Children);
                    WriteVarint(output, (ulong)(long)(payload.Length + LengthDelta));
                    output.Write(payload);
                    break;
                default:
                    output.Write(Bytes);
                    break;
            }
        }

        private void WriteVarint(MemoryStream output, ulong value)
        {
            while (value >= 0x80)
            {
                output.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            if (Overlong == 0)
            {
                output.WriteByte((byte)value);
                return;
            }

            output.WriteByte((byte)(value | 0x80));
            for (int i = 1; i < Overlong; i++)
            {
                output.WriteByte(0x80);
            }

            output.WriteByte(0);
        }

        private static bool TryVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 64 && position < data.Length; shift += 7)
            {
                byte b = data[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

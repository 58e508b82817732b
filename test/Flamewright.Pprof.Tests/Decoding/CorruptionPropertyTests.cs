using System.Diagnostics;
using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Ref = Flamewright.Pprof.Tests.Reference;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// Seeded random mutations of every real profile: of its plain protobuf bytes, of its gzip bytes, and of its
/// structure (ids, stacks, values, names, labels, sample types changed through the generated classes, which
/// mostly gives weird but valid profiles). Each variant either decodes, or is refused with a
/// <see cref="PprofFormatException"/> whose message is one line. Variants that decode go through every analysis and
/// export, which may refuse them the same way and fail in no other, and through our writer and back unchanged.
/// A failure names the seed and variant; <see cref="Mutate"/> with them rebuilds the input.
/// </summary>
public sealed class CorruptionPropertyTests
{
    /// <summary>Variants per profile and form: byte mutations are cheap, structural ones re-encode the whole profile.</summary>
    private static readonly Dictionary<string, int> VariantsPerCase = new() { ["plain"] = 400, ["gzip"] = 400, ["structure"] = 150 };

    private static readonly string[] WeirdStrings =
    [
        "", ";", "a;b c", "line\nbreak", "carriage\rreturn", "\t", "   ", "root", "<svg>&amp;\"'", "ünïcode ✓ 🔥",
        "\u0000", "-", "(inline)", new string('x', 5000),
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach ((string name, _) in TestData.AllProfiles())
        {
            data.Add(name, "plain");
            data.Add(name, "gzip");
            data.Add(name, "structure");
        }

        return data;
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task Thousands_of_variants_are_tried_in_all() => Spec.Run(() =>
    {
        int total = Cases().Sum(row => VariantsPerCase[(string)row[1]]);
        Assert.True(total >= 5_000, $"only {total} variants");
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Every_mutated_variant_decodes_or_is_refused_with_a_one_line_message(string profile, string form) => Spec.Run(() =>
    {
        byte[] original = form == "gzip" ? TestData.Bytes(profile) : TestData.Plain(profile);
        var reference = Ref.Profile.Parser.ParseFrom(TestData.Plain(profile));
        int seed = StableSeed(profile + "/" + form);
        var progress = new Progress();
        int variants = VariantsPerCase[form];

        Task work = Task.Run(() =>
        {
            for (int variant = 0; variant < variants; variant++)
            {
                Volatile.Write(ref progress.Variant, variant);
                (byte[] input, string mutation) = form == "structure" ? MutateStructure(reference, seed, variant) : Mutate(original, seed, variant);
                string where = $"{profile} ({form}) seed {seed} variant {variant} ({mutation})";
                var clock = Stopwatch.StartNew();
                // A gzip stream cut short must never decode: GZipStream returns what it got without complaint.
                bool cutGzip = form == "gzip" && input.Length < original.Length && original.AsSpan().StartsWith(input);
                Check(input, where, progress, mustBeRefused: cutGzip);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{where}: took {clock.Elapsed}");
            }
        });

        if (!work.Wait(TimeSpan.FromSeconds(50)))
        {
            Assert.Fail($"{profile} ({form}) seed {seed}: no progress past variant {Volatile.Read(ref progress.Variant)} (a hang?)");
        }

        work.GetAwaiter().GetResult();
        Assert.Equal(variants, progress.Decoded + progress.Refused);
        switch (form)
        {
            case "gzip":
                Assert.True(progress.Refused > variants * 9 / 10, $"only {progress.Refused} of {variants} variants refused");
                break;
            case "plain":
                Assert.True(progress.Refused > variants / 2, $"only {progress.Refused} of {variants} variants refused");
                Assert.True(progress.Analysed > 0, "no variant decoded and went through analysis");
                break;
            default:
                Assert.True(progress.Refused > 0, "no structural variant was refused");
                Assert.True(progress.Analysed > variants / 2, $"only {progress.Analysed} of {variants} structural variants analysed");
                break;
        }
    });

    /// <summary>One variant of <paramref name="original"/>: one mutation, sometimes two or three.</summary>
    internal static (byte[] Bytes, string Mutation) Mutate(byte[] original, int seed, int variant)
    {
        var random = new Random(unchecked((seed * 100_003) + variant));
        var data = new List<byte>(original);
        var applied = new List<string>();
        int count = random.Next(4) == 0 ? random.Next(2, 4) : 1;
        for (int m = 0; m < count && data.Count > 0; m++)
        {
            int at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0:
                    int flips = random.Next(1, 5);
                    for (int i = 0; i < flips; i++)
                    {
                        int p = random.Next(data.Count);
                        data[p] ^= (byte)random.Next(1, 256);
                    }

                    applied.Add($"flip {flips} bytes from {at}");
                    break;
                case 1:
                    data.RemoveRange(at, data.Count - at);
                    applied.Add($"truncate at {at}");
                    break;
                case 2:
                    byte[] inserted = new byte[random.Next(1, 17)];
                    random.NextBytes(inserted);
                    data.InsertRange(at, inserted);
                    applied.Add($"insert {inserted.Length} random bytes at {at}");
                    break;
                case 3:
                    int length = Math.Min(random.Next(1, 257), data.Count - at);
                    byte[] slice = data.GetRange(at, length).ToArray();
                    int to = random.Next(data.Count + 1);
                    data.InsertRange(to, slice);
                    applied.Add($"duplicate {length} bytes from {at} to {to}");
                    break;
                case 4:
                    int removed = Math.Min(random.Next(1, 33), data.Count - at);
                    data.RemoveRange(at, removed);
                    applied.Add($"remove {removed} bytes at {at}");
                    break;
                default:
                    byte special = (byte)(random.Next(5) switch { 0 => 0x00, 1 => 0x80, 2 => 0xFF, 3 => 0x7F, _ => 0x01 });
                    data[at] = special;
                    applied.Add(string.Create(CultureInfo.InvariantCulture, $"set byte {at} to 0x{special:X2}"));
                    break;
            }
        }

        return ([.. data], string.Join(", ", applied));
    }

    /// <summary>One variant of <paramref name="original"/>'s structure: one to four changes, encoded one of the ways protobuf allows.</summary>
    internal static (byte[] Bytes, string Mutation) MutateStructure(Ref.Profile original, int seed, int variant)
    {
        var random = new Random(unchecked((seed * 100_003) + variant));
        Ref.Profile p = original.Clone();
        var applied = new List<string>();
        int count = random.Next(1, 5);
        for (int m = 0; m < count; m++)
        {
            applied.Add(ChangeStructure(p, random));
        }

        var encoder = new VariantEncoder
        {
            Packed = random.Next(2) == 0,
            UnknownFields = random.Next(4) == 0,
            Order = (FieldOrder)random.Next(4),
            Seed = random.Next(),
        };
        applied.Add(encoder.ToString());
        return (encoder.Encode(p), string.Join(", ", applied));
    }

    private static string ChangeStructure(Ref.Profile p, Random random)
    {
        T Pick<T>(IList<T> items) => items[random.Next(items.Count)];
        long AnyString() => random.Next(p.StringTable.Count);
        ulong AnyLocation() => p.Location.Count == 0 ? (ulong)random.Next(1, 3) : Pick(p.Location).Id;
        long Weird(string s)
        {
            p.StringTable.Add(s);
            return p.StringTable.Count - 1;
        }

        int change = random.Next(14);
        switch (change)
        {
            case 0 when p.Sample.Count > 0 && p.SampleType.Count > 0:
                Ref.Sample valued = Pick(p.Sample);
                long extreme = random.Next(5) switch { 0 => long.MinValue, 1 => long.MaxValue, 2 => -random.Next(1, 1000), 3 => 0, _ => random.NextInt64() };
                valued.Value[random.Next(valued.Value.Count)] = extreme;
                return $"value {extreme}";
            case 1:
                // A new stack of existing locations, repeated (recursion) and sometimes thousands deep.
                var stack = new Ref.Sample { Value = { p.SampleType.Select(_ => (long)random.Next(-5, 100)) } };
                int depth = random.Next(3) == 0 ? random.Next(600, 2000) : random.Next(0, 10);
                for (int i = 0; i < depth; i++)
                {
                    stack.LocationId.Add(AnyLocation());
                }

                p.Sample.Add(stack);
                return $"sample of depth {depth}";
            case 2 when p.Location.Count > 0:
                Ref.Location unlined = Pick(p.Location);
                unlined.Line.Clear();
                return $"location {unlined.Id} without lines";
            case 3 when p.Location.Any(l => l.Line.Count > 0):
                Ref.Line line = Pick(p.Location.Where(l => l.Line.Count > 0).ToList()).Line[0];
                line.FunctionId = 0;
                line.Line_ = random.Next(3) == 0 ? -1 : line.Line_;
                return "line without function";
            case 4 when p.Location.Count > 0:
                Pick(p.Location).MappingId = 0;
                return "location without mapping";
            case 5 when p.Function.Count > 0:
                Ref.Function renamed = Pick(p.Function);
                string name = Pick(WeirdStrings);
                renamed.Name = random.Next(2) == 0 ? Weird(name) : AnyString();
                renamed.Filename = AnyString();
                return $"function {renamed.Id} renamed";
            case 6 when p.Sample.Count > 0:
                Ref.Sample labelled = Pick(p.Sample);
                labelled.Label.Add(new Ref.Label
                {
                    Key = random.Next(2) == 0 ? AnyString() : Weird(Pick(WeirdStrings)),
                    Str = random.Next(2) == 0 ? 0 : AnyString(),
                    Num = random.NextInt64(long.MinValue, long.MaxValue),
                    NumUnit = random.Next(2) == 0 ? 0 : AnyString(),
                });
                return "label added";
            case 7 when p.SampleType.Count > 0:
                int removed = random.Next(p.SampleType.Count);
                p.SampleType.RemoveAt(removed);
                foreach (Ref.Sample s in p.Sample)
                {
                    s.Value.RemoveAt(removed);
                }

                return $"sample type {removed} removed";
            case 8:
                p.SampleType.Add(new Ref.ValueType { Type = AnyString(), Unit = AnyString() });
                foreach (Ref.Sample s in p.Sample)
                {
                    s.Value.Add(random.Next(-3, 3));
                }

                return "sample type added";
            case 9:
                p.DefaultSampleType = random.Next(2) == 0 ? AnyString() : Weird(Pick(WeirdStrings));
                return "default sample type changed";
            case 10 when p.Location.Count > 0:
                // An id changed without updating references: missing or duplicate ids, or harmless.
                Ref.Location renumbered = Pick(p.Location);
                renumbered.Id = random.Next(3) switch { 0 => AnyLocation(), 1 => (ulong)random.NextInt64(), _ => 0 };
                return $"location id changed to {renumbered.Id}";
            case 11 when p.Sample.Count > 0:
                int at = random.Next(p.Sample.Count);
                if (random.Next(2) == 0)
                {
                    p.Sample.Add(p.Sample[at].Clone());
                    return $"sample {at} duplicated";
                }

                p.Sample.RemoveAt(at);
                return $"sample {at} removed";
            case 12:
                p.Period = random.NextInt64(long.MinValue, long.MaxValue);
                p.DurationNanos = random.Next(2) == 0 ? 0 : -random.Next(1, 1000);
                p.TimeNanos = random.NextInt64(long.MinValue, long.MaxValue);
                return "period, duration and time changed";
            default:
                p.StringTable[random.Next(1, p.StringTable.Count)] = Pick(WeirdStrings);
                return "a string replaced";
        }
    }

    private static void Check(byte[] input, string where, Progress progress, bool mustBeRefused)
    {
        Profile profile;
        try
        {
            profile = ProfileReader.Read(input);
        }
        catch (PprofFormatException e)
        {
            OneLine(e, where);
            progress.Refused++;
            return;
        }
        catch (Exception e)
        {
            Assert.Fail($"{where}: decoding threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            return;
        }

        Assert.False(mustBeRefused, $"{where}: a truncated gzip stream decoded to a profile of {profile.SampleCount} samples");
        progress.Decoded++;
        try
        {
            Analyse(profile, where);
            progress.Analysed++;
        }
        catch (PprofFormatException e)
        {
            OneLine(e, where);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{where}: analysis threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
    }

    private static void Analyse(Profile profile, string where)
    {
        FlameTree tree = FlameTreeBuilder.Build(profile);
        TopTable top = TopTable.Build(profile);
        Assert.Equal(tree.Total, top.Total);
        _ = FoldedStacks.Lines(tree);
        SkyWalkingTree.Write(tree, Stream.Null);
        JsonTree.Write(tree, Stream.Null);
        Speedscope.Write(tree, Stream.Null, "variant");
        TopText.Write(top, TextWriter.Null);

        // Whatever decodes, our writer writes back and the decoder reads again to the same content, except for a
        // string label whose value is "" at a string index other than 0: index 0 means "no string", so that label
        // has no canonical encoding, and our writer, like pprof's, turns it into a numeric label.
        if (HasEmptyStringLabel(profile))
        {
            return;
        }

        Profile again = ProfileReader.Read(ProfileWriter.Encode(profile));
        List<string> before = ProfileContent.Of(profile), after = ProfileContent.Of(again);
        int differs = Enumerable.Range(0, Math.Min(before.Count, after.Count)).FirstOrDefault(i => before[i] != after[i], -1);
        Assert.True(
            before.Count == after.Count && differs < 0,
            $"{where}: the profile changed through ProfileWriter: {(differs < 0 ? $"{before.Count} lines became {after.Count}" : $"'{before[differs]}' became '{after[differs]}'")}");
    }

    private static bool HasEmptyStringLabel(Profile profile)
    {
        for (int i = 0; i < profile.SampleCount; i++)
        {
            foreach (Label label in profile.GetSample(i).Labels)
            {
                if (label.Str is "")
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void OneLine(PprofFormatException e, string where)
    {
        Assert.False(string.IsNullOrWhiteSpace(e.Message), $"{where}: empty message");
        Assert.False(e.Message.Contains('\n') || e.Message.Contains('\r'), $"{where}: message of several lines: {e.Message}");
    }

    private static int StableSeed(string name)
    {
        uint hash = 2_166_136_261; // FNV-1a: string.GetHashCode differs from run to run
        foreach (char c in name)
        {
            hash = (hash ^ c) * 16_777_619;
        }

        return (int)(hash & 0x3FFF_FFFF);
    }

    private sealed class Progress
    {
        public int Variant;
        public int Decoded;
        public int Refused;
        public int Analysed;
    }
}

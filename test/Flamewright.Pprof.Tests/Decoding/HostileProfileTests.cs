using System.Diagnostics;
using System.Text.Json;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Xunit.Abstractions;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// The engine's door for the hostile profiles of <see cref="HostileProfiles"/>: each is refused with its one-line
/// reason or read with its right total, within a time and a memory bound; what is read goes through every
/// analysis and export. The server and CLI tests feed the same profiles through their doors.
/// </summary>
[Collection(HostileDoorsRunAlone.Name)]
public sealed class HostileProfileTests(ITestOutputHelper output)
{
    /// <summary>
    /// The longest a hostile profile may take to be read or refused. Unloaded, the slowest case takes about a second
    /// (a bomb inflates 256 MiB); under a load of 17 on 2 cores, 7 s. Quadratic work (a hash table flooded by
    /// colliding ids) takes minutes (167 s for the crafted stacks before their fix), so a bound this generous still
    /// tells the two apart; the tiny-element bomb took 69 s once under a load of 10 on 2 cores, hence two minutes.
    /// </summary>
    private static readonly TimeSpan ReadTimeBound = TimeSpan.FromSeconds(120);

    /// <summary>The same for every analysis and export of a handled profile together (a million samples, twice read).</summary>
    private static readonly TimeSpan AnalysisTimeBound = TimeSpan.FromSeconds(120);

    /// <summary>Milliseconds a case may take in all: building a million samples, then reading and analysing them, on a loaded machine.</summary>
    private const int HeavyTimeout = 300_000;

    /// <summary>
    /// What reading may allocate per byte of protobuf, counted up to the decompressed-size limit. The inflate buffer
    /// doubles up to the decompressed size (2.3 bytes per byte in all), and what decoding allocates for the model
    /// stops at MaxModelBytes, 4 bytes per byte of the limit. Measured: 2.2 for the bombs of zeros and of valid
    /// protobuf, 4.3 for the one of tiny elements, 1 to 10 for the larger handled cases (small ones stay within the
    /// slack, which their fixed tables take).
    /// </summary>
    private const int AllocationPerPlainByte = 8;

    /// <summary>Allocation any read may make whatever its size: tables are pre-sized to a few MiB (StackTable).</summary>
    private const long AllocationSlack = 64L << 20;

    public static TheoryData<string> Cases => [.. HostileProfiles.Names()];

    public static TheoryData<string> HandledCases => [.. HostileProfiles.Names(HostileOutcome.Handled)];

    [Theory(Timeout = HeavyTimeout)]
    [MemberData(nameof(Cases))]
    public Task Is_refused_with_its_reason_or_read_with_its_total_in_bounded_time_and_memory(string name) => Spec.Run(() =>
    {
        HostileProfile hostile = HostileProfiles.Get(name);
        byte[] bytes = hostile.Bytes;
        ProfileReader.Read(HostileProfiles.OrdinaryBytes); // the first read of a process JIT-compiles and allocates statics

        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        (Profile? profile, PprofFormatException? refused) = Read(() => ProfileReader.Read(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        clock.Stop();

        long bound = AllocationPerPlainByte * Math.Min(hostile.PlainLength, PprofLimits.DefaultMaxDecompressedBytes) + AllocationSlack;
        output.WriteLine($"{name}: {bytes.Length} bytes, {hostile.PlainLength} inflated, {clock.Elapsed.TotalMilliseconds:F0} ms, allocated {allocated} ({(double)allocated / Math.Max(1, Math.Min(hostile.PlainLength, PprofLimits.DefaultMaxDecompressedBytes)):F2} per byte)");
        Assert.True(clock.Elapsed < ReadTimeBound, $"took {clock.Elapsed}");
        Assert.True(allocated < bound, $"allocated {allocated} bytes, more than {bound}");
        if (hostile.IsRefused)
        {
            Assert.True(refused is not null, $"read a profile of {profile?.SampleCount} samples");
            Assert.Contains(hostile.Reason!, refused.Message);
            Assert.DoesNotContain('\n', refused.Message);
            // From a stream, as the CLI reads a file, the same reason.
            Assert.Equal(refused.Message, Read(() => ProfileReader.Read(new MemoryStream(bytes))).Refused?.Message);
        }
        else
        {
            Assert.True(profile is not null, refused?.Message);
            Assert.Equal(hostile.SampleCount, profile.SampleCount);
            Assert.Equal(hostile.Total, profile.Total(profile.DefaultSampleTypeIndex));
            Assert.Equal(hostile.Total, FlameTreeBuilder.Build(profile).Total);
        }
    });

    [Theory(Timeout = HeavyTimeout)]
    [MemberData(nameof(HandledCases))]
    public Task A_handled_one_goes_through_every_analysis_and_export_with_its_names_intact(string name) => Spec.Run(() =>
    {
        HostileProfile hostile = HostileProfiles.Get(name);
        Profile profile = ProfileReader.Read(hostile.Bytes);
        var clock = Stopwatch.StartNew();

        FlameTree tree = FlameTreeBuilder.Build(profile);
        TopTable top = TopTable.Build(profile);
        string svg = Written(writer => SvgFlameGraph.Write(tree, writer, name));
        string folded = Written(writer => FoldedStacks.Write(tree, writer));
        using var json = new MemoryStream();
        JsonTree.Write(tree, json);
        Speedscope.Write(tree, Stream.Null, name);
        SkyWalkingTree.Write(tree, Stream.Null);
        TopText.Write(top, TextWriter.Null);
        Profile again = ProfileReader.Read(ProfileWriter.Encode(profile));
        clock.Stop();

        Assert.True(clock.Elapsed < AnalysisTimeBound, $"took {clock.Elapsed}");
        Assert.Equal(hostile.Total, tree.Total);
        Assert.Equal(hostile.Total, top.Total);
        Assert.Equal(ProfileContent.Of(profile), ProfileContent.Of(again));
        string[] names = [.. Enumerable.Range(0, tree.Count).Select(tree.NameOf)];
        Assert.All(hostile.Names, n => Assert.Contains(n, names));
        Assert.All(hostile.Names, n => Assert.Contains(n, folded));
        HostileProfiles.CheckSvgShowsNamesOnlyAsText(svg, hostile.HostileText ? hostile.Names : []);
        using JsonDocument document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 4 * HostileProfiles.DeepFrames });
        Assert.Equal(hostile.Total, document.RootElement.GetProperty("total").GetInt64());
    });

    private static string Written(Action<TextWriter> write)
    {
        using var writer = new StringWriter();
        write(writer);
        return writer.ToString();
    }

    private static (Profile? Profile, PprofFormatException? Refused) Read(Func<Profile> read)
    {
        try
        {
            return (read(), null);
        }
        catch (PprofFormatException e)
        {
            return (null, e);
        }
    }
}

using System.CommandLine;
using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

namespace Flamewright.Cli.Analyze;

/// <summary><c>flamewright analyze FILE...</c>: read, merge and export profiles offline.</summary>
internal static class AnalyzeCommand
{
    /// <summary>Exit code for input that cannot be analysed (bad file, bad profile, unknown sample type).</summary>
    public const int BadInput = 2;

    /// <summary>Rows the top table prints unless told otherwise.</summary>
    public const int DefaultTopRows = TopText.DefaultRows;

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Profiles (profile.proto, gzip-compressed or plain); several are merged.",
            Arity = ArgumentArity.OneOrMore,
        };
        var sampleType = new Option<string?>("--sample-type", "-s")
        {
            Description = "Sample type to weigh by, by name (inuse_space) or index (3). Default: as go tool pprof picks.",
        };
        var granularity = new Option<string>("--granularity", "-g")
        {
            Description = "One frame per function, or per function and line (name:line).",
            DefaultValueFactory = _ => "function",
        };
        granularity.AcceptOnlyFromAmong("function", "line");
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format.",
            DefaultValueFactory = _ => "top",
        };
        format.AcceptOnlyFromAmong([.. ExportFormat.Names]);
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write to this file instead of standard output.",
        };
        var rows = new Option<int>("--rows", "-n")
        {
            Description = "Rows of the top table; 0 prints every function.",
            DefaultValueFactory = _ => DefaultTopRows,
        };
        var focus = new Option<string?>("--focus")
        {
            Description = "Keep only samples with a frame matching this regular expression (go tool pprof -focus).",
        };
        var ignore = new Option<string?>("--ignore")
        {
            Description = "Drop samples with a frame matching this regular expression (go tool pprof -ignore).",
        };
        var tagFocus = new Option<string?>("--tag-focus")
        {
            Description = "Keep only samples whose labels match: key=regex, regex (against key:value), or a range such as bytes=64kb: (go tool pprof -tagfocus).",
        };
        var tagIgnore = new Option<string?>("--tag-ignore")
        {
            Description = "Drop samples whose labels match, written as --tag-focus (go tool pprof -tagignore).",
        };
        var tagSplit = new Option<string?>("--tag-split")
        {
            Description = "Split the graph by this label key: one root frame per value, key=value (go tool pprof -tagroot).",
        };
        var listSampleTypes = new Option<bool>("--list-sample-types")
        {
            Description = "List each file's sample types and exit.",
        };
        var maxBytes = new Option<long>("--max-decompressed-bytes")
        {
            Description = "Refuse a profile that inflates to more than this many bytes.",
            DefaultValueFactory = _ => PprofLimits.DefaultMaxDecompressedBytes,
        };
        rows.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--rows must be 0 or more");
            }
        });
        maxBytes.Validators.Add(r =>
        {
            long value = r.GetValueOrDefault<long>();
            if (value <= 0 || value > Array.MaxLength)
            {
                r.AddError($"--max-decompressed-bytes must be between 1 and {Array.MaxLength}");
            }
        });

        var command = new Command("analyze", "Analyse profiles offline: top functions, folded stacks, flame graphs, merged pprof.")
        {
            files, sampleType, granularity, focus, ignore, tagFocus, tagIgnore, tagSplit, format, output, rows, listSampleTypes, maxBytes,
        };
        command.SetAction(parse => new AnalyzeRun(
            parse.GetValue(files)!,
            parse.GetValue(sampleType),
            parse.GetValue(granularity) == "line" ? FrameGranularity.Line : FrameGranularity.Function,
            ExportFormat.Find(parse.GetValue(format)!)!,
            parse.GetValue(output),
            parse.GetValue(rows),
            parse.GetValue(listSampleTypes),
            new PprofLimits { MaxDecompressedBytes = parse.GetValue(maxBytes) },
            new FlameOptions
            {
                Focus = parse.GetValue(focus), Ignore = parse.GetValue(ignore),
                TagFocus = parse.GetValue(tagFocus), TagIgnore = parse.GetValue(tagIgnore), TagSplit = parse.GetValue(tagSplit),
            }).Run(Console.OpenStandardOutput(), Console.Error));
        return command;
    }
}

/// <summary>One invocation of <c>analyze</c>, with its arguments resolved; <paramref name="Filters"/> holds the frame and label filters and the split.</summary>
internal sealed record AnalyzeRun(
    string[] Files, string? SampleType, FrameGranularity Granularity, ExportFormat Format, string? Output,
    int Rows, bool ListSampleTypes, PprofLimits Limits, FlameOptions Filters)
{
    public int Run(Stream stdout, TextWriter stderr)
    {
        var profiles = new List<Profile>(Files.Length);
        foreach (string file in Files)
        {
            try
            {
                profiles.Add(ProfileReader.ReadFile(file, Limits));
            }
            catch (Exception e) when (e is PprofFormatException or IOException or UnauthorizedAccessException)
            {
                return Fail(stderr, file, Describe(e));
            }
        }

        if (ListSampleTypes)
        {
            WriteSampleTypes(profiles, stdout);
            return 0;
        }

        for (int p = 1; p < profiles.Count; p++)
        {
            try
            {
                SampleTypeSelection.EnsureMergeable(profiles[0], profiles[p], p);
            }
            catch (PprofFormatException e)
            {
                return Fail(stderr, Files[p], e.Message);
            }
        }

        if (Format.Source == ExportSource.Profile && (Filters.Focus ?? Filters.Ignore ?? Filters.TagFocus ?? Filters.TagIgnore ?? Filters.TagSplit) is not null)
        {
            return Fail(stderr, "--format pprof", "writes the merged profile whole; --focus, --ignore and the --tag options apply to the other formats");
        }

        FlameOptions options = Filters with { SampleType = SampleType, Granularity = Granularity };
        // A file is written beside its destination and moved there only when complete: a failure leaves
        // neither an empty nor a half-written output behind.
        string? partial = Output is null ? null : Output + ".partial";
        try
        {
            using (Stream target = partial is null ? stdout : File.Create(partial))
            {
                Export(profiles, options, target);
            }

            if (partial is not null)
            {
                File.Move(partial, Output!, overwrite: true);
            }
        }
        catch (PprofFormatException e)
        {
            DeletePartial(partial);
            return Fail(stderr, Files[0], e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeletePartial(partial);
            return Fail(stderr, Output ?? "standard output", Describe(e));
        }

        return 0;
    }

    private static void DeletePartial(string? partial)
    {
        if (partial is not null)
        {
            File.Delete(partial);
        }
    }

    private void Export(List<Profile> profiles, FlameOptions options, Stream target)
    {
        string title = string.Join(", ", Files.Select(Path.GetFileName));
        using var buffered = new BufferedStream(target, 1 << 16);
        switch (Format.Source)
        {
            case ExportSource.Profile:
                Format.Write(profiles.Count == 1 ? profiles[0] : ProfileMerger.Merge(profiles), buffered);
                break;
            case ExportSource.Top:
                Format.Write(TopTable.Build(profiles, options), buffered, Rows);
                break;
            default:
                Format.Write(FlameTreeBuilder.Build(profiles, options), buffered, title);
                break;
        }

        buffered.Flush();
    }

    private void WriteSampleTypes(List<Profile> profiles, Stream output)
    {
        using var stdout = new StreamWriter(output, new System.Text.UTF8Encoding(false), 1024, leaveOpen: true);
        for (int p = 0; p < profiles.Count; p++)
        {
            Profile profile = profiles[p];
            if (profiles.Count > 1)
            {
                stdout.WriteLine($"{Files[p]}:");
            }

            int chosen = profile.SampleTypes.Length == 0 ? -1 : profile.DefaultSampleTypeIndex;
            for (int i = 0; i < profile.SampleTypes.Length; i++)
            {
                string mark = i == chosen ? "  (default)" : "";
                stdout.WriteLine($"{i}  {profile.SampleTypes[i].Type}/{profile.SampleTypes[i].Unit}{mark}");
            }
        }
    }

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException => "file not found",
        DirectoryNotFoundException => "directory not found",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message.ReplaceLineEndings(" "),
    };

    private static int Fail(TextWriter stderr, string file, string message)
    {
        stderr.WriteLine($"flamewright: {file}: {message}");
        return AnalyzeCommand.BadInput;
    }
}

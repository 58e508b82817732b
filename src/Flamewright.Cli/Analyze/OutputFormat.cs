namespace Flamewright.Cli.Analyze;

/// <summary>What <c>flamewright analyze</c> writes.</summary>
internal enum OutputFormat
{
    Top,
    Folded,
    Json,
    SkyWalking,
    Speedscope,
    Svg,
    Pprof,
}

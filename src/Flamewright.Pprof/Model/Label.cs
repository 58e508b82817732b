namespace Flamewright.Pprof.Model;

/// <summary>
/// A sample label: either a string value (<see cref="Str"/> not null) or a number with an optional unit.
/// </summary>
public readonly record struct Label(string Key, string? Str, long Num, string? NumUnit)
{
    public bool IsString => Str is not null;

    public override string ToString() => IsString ? $"{Key}:{Str}" : $"{Key}:{Num}{NumUnit}";
}

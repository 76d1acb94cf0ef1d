using Crema.Proto;

namespace Crema.Nets;

/// <summary>Caffe's include/exclude filtering of layers by phase, level and stage.</summary>
public static class NetStateRules
{
    /// <summary>True when <paramref name="state"/> satisfies every condition <paramref name="rule"/> sets.</summary>
    public static bool Meets(NetState state, NetStateRule rule)
    {
        if (rule.HasPhase && rule.Phase != state.Phase)
        {
            return false;
        }
        if (rule.HasMinLevel && state.Level < rule.MinLevel)
        {
            return false;
        }
        if (rule.HasMaxLevel && state.Level > rule.MaxLevel)
        {
            return false;
        }
        foreach (string stage in rule.Stage)
        {
            if (!state.Stage.Contains(stage))
            {
                return false;
            }
        }
        foreach (string stage in rule.NotStage)
        {
            if (state.Stage.Contains(stage))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The layers of <paramref name="net"/> that belong in <paramref name="state"/> (Caffe's FilterNet).</summary>
    public static NetParameter Filter(NetParameter net, NetState state)
    {
        var filtered = net.Clone();
        filtered.Layer.Clear();
        foreach (var layer in net.Layer)
        {
            if (layer.Include.Count > 0 && layer.Exclude.Count > 0)
            {
                throw new CremaException($"Layer '{layer.Name}' specifies both include and exclude rules; give one or the other");
            }
            bool included = layer.Include.Count == 0;
            foreach (var rule in layer.Exclude)
            {
                if (Meets(state, rule))
                {
                    included = false;
                }
            }
            foreach (var rule in layer.Include)
            {
                if (Meets(state, rule))
                {
                    included = true;
                }
            }
            if (included)
            {
                filtered.Layer.Add(layer.Clone());
            }
        }
        return filtered;
    }
}

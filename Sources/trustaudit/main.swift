print("trustaudit: under construction")
